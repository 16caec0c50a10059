//! Principal component analysis of the rows of a matrix: the eigenvectors of their covariance,
//! largest variance first, found by Householder reduction to tridiagonal form and the implicit
//! QL method (the EISPACK routines `tred2` and `tql2`, as JAMA writes them).

use ndarray::{Array1, Array2, ArrayView2, Axis};

/// The mean of the rows and the `components` directions of largest variance (one per column).
pub(crate) struct Pca {
    pub mean: Array1<f32>,
    pub components: Array2<f32>,
}

impl Pca {
    /// Fits `components` directions to the rows of `x`; `None` when `x` has no rows, a value that
    /// is not finite, or fewer columns than `components`.
    pub(crate) fn fit(x: ArrayView2<f32>, components: usize) -> Option<Self> {
        let (rows, dim) = x.dim();
        if rows == 0 || components > dim || x.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let mean = x.mean_axis(Axis(0))?;
        let centered = &x - &mean;
        let covariance = centered.t().dot(&centered).mapv(|c| f64::from(c) / rows as f64);
        let (values, vectors) = symmetric_eigen(covariance);
        let mut order: Vec<usize> = (0..dim).collect();
        order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
        let mut out = Array2::zeros((dim, components));
        for (c, &i) in order.iter().take(components).enumerate() {
            out.column_mut(c).assign(&vectors.column(i).mapv(|v| v as f32));
        }
        Some(Self { mean, components: out })
    }

    /// The rows of `x` centred and projected onto the components.
    pub(crate) fn transform(&self, x: ArrayView2<f32>) -> Array2<f32> {
        (&x - &self.mean).dot(&self.components)
    }
}

/// The eigenvalues and eigenvectors (columns) of the symmetric matrix `a`.
fn symmetric_eigen(a: Array2<f64>) -> (Vec<f64>, Array2<f64>) {
    let n = a.nrows();
    let mut v = a;
    let mut d = vec![0.0; n];
    let mut e = vec![0.0; n];
    if n == 0 {
        return (d, v);
    }
    tridiagonalize(&mut v, &mut d, &mut e);
    diagonalize(&mut v, &mut d, &mut e);
    (d, v)
}

/// Householder reduction of the symmetric `v` to tridiagonal form: the diagonal in `d`, the
/// subdiagonal in `e[1..]`, and `v` becomes the orthogonal transformation.
fn tridiagonalize(v: &mut Array2<f64>, d: &mut [f64], e: &mut [f64]) {
    let n = d.len();
    for j in 0..n {
        d[j] = v[[n - 1, j]];
    }
    for i in (1..n).rev() {
        let scale: f64 = d[..i].iter().map(|x| x.abs()).sum();
        let mut h = 0.0;
        if scale == 0.0 {
            e[i] = d[i - 1];
            for j in 0..i {
                d[j] = v[[i - 1, j]];
                v[[i, j]] = 0.0;
                v[[j, i]] = 0.0;
            }
        } else {
            for x in &mut d[..i] {
                *x /= scale;
                h += *x * *x;
            }
            let mut f = d[i - 1];
            let mut g = if f > 0.0 { -h.sqrt() } else { h.sqrt() };
            e[i] = scale * g;
            h -= f * g;
            d[i - 1] = f - g;
            e[..i].fill(0.0);
            for j in 0..i {
                f = d[j];
                v[[j, i]] = f;
                g = e[j] + v[[j, j]] * f;
                for k in j + 1..i {
                    g += v[[k, j]] * d[k];
                    e[k] += v[[k, j]] * f;
                }
                e[j] = g;
            }
            f = 0.0;
            for j in 0..i {
                e[j] /= h;
                f += e[j] * d[j];
            }
            let hh = f / (h + h);
            for j in 0..i {
                e[j] -= hh * d[j];
            }
            for j in 0..i {
                let (f, g) = (d[j], e[j]);
                for k in j..i {
                    v[[k, j]] -= f * e[k] + g * d[k];
                }
                d[j] = v[[i - 1, j]];
                v[[i, j]] = 0.0;
            }
        }
        d[i] = h;
    }
    for i in 0..n - 1 {
        v[[n - 1, i]] = v[[i, i]];
        v[[i, i]] = 1.0;
        let h = d[i + 1];
        if h != 0.0 {
            for k in 0..=i {
                d[k] = v[[k, i + 1]] / h;
            }
            for j in 0..=i {
                let g: f64 = (0..=i).map(|k| v[[k, i + 1]] * v[[k, j]]).sum();
                for k in 0..=i {
                    v[[k, j]] -= g * d[k];
                }
            }
        }
        for k in 0..=i {
            v[[k, i + 1]] = 0.0;
        }
    }
    for j in 0..n {
        d[j] = v[[n - 1, j]];
        v[[n - 1, j]] = 0.0;
    }
    v[[n - 1, n - 1]] = 1.0;
    e[0] = 0.0;
}

/// The implicit QL method on the tridiagonal matrix of `d` and `e`: the eigenvalues in `d`, the
/// eigenvectors accumulated into `v`.
fn diagonalize(v: &mut Array2<f64>, d: &mut [f64], e: &mut [f64]) {
    let n = d.len();
    for i in 1..n {
        e[i - 1] = e[i];
    }
    e[n - 1] = 0.0;
    let (mut f, mut tst1) = (0.0f64, 0.0f64);
    let eps = f64::EPSILON;
    for l in 0..n {
        tst1 = tst1.max(d[l].abs() + e[l].abs());
        // e[n - 1] is 0, so a small subdiagonal element is always found.
        let m = (l..n).find(|&m| e[m].abs() <= eps * tst1).unwrap_or(n - 1);
        if m > l {
            loop {
                let mut g = d[l];
                let mut p = (d[l + 1] - g) / (2.0 * e[l]);
                let mut r = p.hypot(1.0);
                if p < 0.0 {
                    r = -r;
                }
                d[l] = e[l] / (p + r);
                d[l + 1] = e[l] * (p + r);
                let dl1 = d[l + 1];
                let mut h = g - d[l];
                for x in &mut d[l + 2..] {
                    *x -= h;
                }
                f += h;
                p = d[m];
                let (mut c, mut c2, mut c3) = (1.0, 1.0, 1.0);
                let el1 = e[l + 1];
                let (mut s, mut s2) = (0.0, 0.0);
                for i in (l..m).rev() {
                    c3 = c2;
                    c2 = c;
                    s2 = s;
                    g = c * e[i];
                    h = c * p;
                    r = p.hypot(e[i]);
                    e[i + 1] = s * r;
                    s = e[i] / r;
                    c = p / r;
                    p = c * d[i] - s * g;
                    d[i + 1] = h + s * (c * g + s * d[i]);
                    for k in 0..n {
                        h = v[[k, i + 1]];
                        v[[k, i + 1]] = s * v[[k, i]] + c * h;
                        v[[k, i]] = c * v[[k, i]] - s * h;
                    }
                }
                p = -s * s2 * c3 * el1 * e[l] / dl1;
                e[l] = s * p;
                d[l] = c * p;
                if e[l].abs() <= eps * tst1 {
                    break;
                }
            }
        }
        d[l] += f;
        e[l] = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_symmetric(n: usize, seed: u64) -> Array2<f64> {
        let mut rng = fastrand::Rng::with_seed(seed);
        let b = Array2::from_shape_fn((n, n), |_| rng.f64() - 0.5);
        &b + &b.t()
    }

    /// A = V diag(d) Vᵀ with V orthogonal, for matrices of several sizes, one with repeated
    /// eigenvalues and one already diagonal.
    #[test]
    fn eigenvectors_rebuild_the_matrix() {
        let mut cases: Vec<Array2<f64>> = [1, 2, 3, 10, 64].iter().map(|&n| random_symmetric(n, n as u64)).collect();
        cases.push(Array2::eye(5) * 2.0);
        cases.push(Array2::from_diag(&Array1::from(vec![3.0, -1.0, 0.0, 7.5])));
        for a in cases {
            let (d, v) = symmetric_eigen(a.clone());
            let rebuilt = v.dot(&Array2::from_diag(&Array1::from(d))).dot(&v.t());
            let n = a.nrows();
            assert!((&rebuilt - &a).iter().all(|x| x.abs() < 1e-9), "A = V D Vᵀ for n = {n}");
            assert!((v.t().dot(&v) - Array2::<f64>::eye(n)).iter().all(|x| x.abs() < 1e-9), "V orthogonal, n = {n}");
        }
    }

    /// Points along one line, with a little noise across it: the first component is the line.
    #[test]
    fn the_first_component_follows_the_spread() {
        let mut rng = fastrand::Rng::with_seed(7);
        let x = Array2::from_shape_fn((500, 3), |(_, j)| match j {
            0 => 0.0,
            _ => rng.f32() - 0.5,
        });
        let line = Array2::from_shape_fn((500, 3), |(i, j)| {
            let t = i as f32 / 50.0;
            [t, 2.0 * t, -t][j] + 0.01 * x[[i, j]]
        });
        let pca = Pca::fit(line.view(), 2).unwrap();
        let first = pca.components.column(0);
        let norm = 6f32.sqrt();
        let along = (first[0] + 2.0 * first[1] - first[2]) / norm;
        assert!(along.abs() > 0.999, "first component {first} lies along (1, 2, -1)");
        let projected = pca.transform(line.view());
        assert_eq!(projected.dim(), (500, 2));
        assert!(
            projected.column(0).iter().map(|v| v * v).sum::<f32>()
                > 100.0 * projected.column(1).iter().map(|v| v * v).sum::<f32>()
        );
        assert!(Pca::fit(line.view(), 4).is_none(), "more components than columns");
        assert!(Pca::fit(Array2::<f32>::zeros((0, 3)).view(), 1).is_none(), "no rows");
    }
}
