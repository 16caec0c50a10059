//! Clusters from links: union-find over the strongest links first, then each record's link to
//! its parent in the cluster's spanning tree, rooted at the cluster's smallest record id.

use std::collections::VecDeque;

use uuid::Uuid;

/// The UUIDv5 namespace of cluster keys, `ca363941-af1a-544f-bf55-f69431cb3dc7`, which is
/// `UUIDv5(NAMESPACE_URL, "https://convlytics.dev/ns/identity-cluster")`.
pub const CLUSTER_NAMESPACE: Uuid = Uuid::from_u128(0xca363941_af1a_544f_bf55_f69431cb3dc7);

/// Why two records were linked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Why {
    /// They share the normalized value of this deterministic column.
    Deterministic(usize),
    /// Their comparison pattern scored this match weight.
    Probabilistic(f64),
}

/// A link between two records (indices).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Link {
    pub(crate) a: u32,
    pub(crate) b: u32,
    pub(crate) why: Why,
}

/// Where a record sits in its cluster.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Placement {
    /// The cluster's root record (smallest id).
    pub(crate) root: u32,
    /// The record's parent in the spanning tree and the link to it; `None` at the root.
    pub(crate) parent: Option<(u32, Why)>,
}

/// Disjoint sets of record indices, with path halving; the smaller root wins a union.
pub(crate) struct UnionFind(Vec<u32>);

impl UnionFind {
    /// `n` singleton sets.
    pub(crate) fn new(n: usize) -> Self {
        Self((0..n as u32).collect())
    }

    /// The root of `x`'s set.
    pub(crate) fn find(&mut self, mut x: u32) -> u32 {
        while self.0[x as usize] != x {
            let parent = self.0[x as usize];
            self.0[x as usize] = self.0[parent as usize];
            x = parent;
        }
        x
    }

    /// Joins the sets of `a` and `b`; false when they already were one.
    pub(crate) fn union(&mut self, a: u32, b: u32) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.0[ra.max(rb) as usize] = ra.min(rb);
        }
        ra != rb
    }
}

/// Places every record: `links` are applied deterministic first (column order), then by
/// falling match weight; `id` orders records to choose each cluster's root.
pub(crate) fn cluster<'a>(records: usize, mut links: Vec<Link>, id: impl Fn(u32) -> &'a str) -> Vec<Placement> {
    let rank = |w: &Why| match w {
        Why::Deterministic(c) => (0, *c as f64),
        Why::Probabilistic(weight) => (1, -weight),
    };
    links.sort_by(|x, y| {
        let (rx, ry) = (rank(&x.why), rank(&y.why));
        rx.0.cmp(&ry.0).then(rx.1.total_cmp(&ry.1)).then((x.a, x.b).cmp(&(y.a, y.b)))
    });
    let mut sets = UnionFind::new(records);
    let mut tree: Vec<Vec<(u32, Why)>> = vec![Vec::new(); records];
    for link in links {
        if sets.union(link.a, link.b) {
            tree[link.a as usize].push((link.b, link.why));
            tree[link.b as usize].push((link.a, link.why));
        }
    }
    let mut root_of = vec![u32::MAX; records];
    for r in 0..records as u32 {
        let set = sets.find(r) as usize;
        if root_of[set] == u32::MAX || id(r) < id(root_of[set]) {
            root_of[set] = r;
        }
    }
    let mut placements: Vec<Option<Placement>> = vec![None; records];
    let mut queue = VecDeque::new();
    for r in 0..records as u32 {
        let root = root_of[sets.find(r) as usize];
        if root != r {
            continue;
        }
        placements[r as usize] = Some(Placement { root, parent: None });
        queue.push_back(r);
        while let Some(node) = queue.pop_front() {
            for &(next, why) in &tree[node as usize] {
                if placements[next as usize].is_none() {
                    placements[next as usize] = Some(Placement { root, parent: Some((node, why)) });
                    queue.push_back(next);
                }
            }
        }
    }
    placements.into_iter().map(|p| p.expect("every record is reached from its root")).collect()
}

/// The stable key of the cluster rooted at record id `root`.
pub(crate) fn cluster_key(root: &str) -> String {
    Uuid::new_v5(&CLUSTER_NAMESPACE, root.as_bytes()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_is_derived_from_the_documented_url() {
        let derived = Uuid::new_v5(&Uuid::NAMESPACE_URL, b"https://convlytics.dev/ns/identity-cluster");
        assert_eq!(CLUSTER_NAMESPACE, derived);
    }

    #[test]
    fn strongest_links_form_the_tree_rooted_at_the_smallest_id() {
        let ids = ["d", "b", "c", "a", "e"];
        let links = vec![
            Link { a: 0, b: 1, why: Why::Probabilistic(5.0) },
            Link { a: 1, b: 2, why: Why::Probabilistic(9.0) },
            Link { a: 0, b: 2, why: Why::Deterministic(0) },
            Link { a: 2, b: 3, why: Why::Probabilistic(7.0) },
        ];
        let placed = cluster(5, links, |r| ids[r as usize]);
        assert!(placed[..4].iter().all(|p| p.root == 3), "{placed:?}");
        assert_eq!(placed[3].parent, None);
        assert_eq!(placed[2].parent, Some((3, Why::Probabilistic(7.0))));
        // 0-2 deterministic and 1-2 at weight 9 make the tree; the weaker 0-1 link is not used.
        assert_eq!(placed[0].parent, Some((2, Why::Deterministic(0))));
        assert_eq!(placed[1].parent, Some((2, Why::Probabilistic(9.0))));
        assert_eq!(placed[4], Placement { root: 4, parent: None });
    }
}
