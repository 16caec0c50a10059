//! The lineage graph as SVG, laid out in layers from left to right: each node one layer past its
//! furthest parent, edges that skip layers routed through placeholder slots, and the order inside
//! each layer settled by barycentre sweeps and swaps of neighbours so that few edges cross.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::escape;

/// Width of a node's box, in pixels.
const NODE_WIDTH: f64 = 184.0;
/// Height of a node's box.
const NODE_HEIGHT: f64 = 28.0;
/// Horizontal distance from one layer to the next.
const LAYER_STEP: f64 = 248.0;
/// Vertical distance from one slot of a layer to the next.
const SLOT_STEP: f64 = 40.0;
/// Margin around the drawing.
const MARGIN: f64 = 12.0;
/// Barycentre sweeps (down and up count as one each).
const SWEEPS: usize = 16;
/// Characters of a label shown in a box (the whole label is the node's tooltip).
const LABEL_CHARS: usize = 24;

/// One node: a model, seed or source.
#[derive(Debug, Clone)]
pub struct Node {
    /// Its unique id in the manifest (`model.project.name`).
    pub id: String,
    /// What its box says.
    pub label: String,
    /// `model`, `seed` or `source`.
    pub kind: &'static str,
    /// The page it opens.
    pub href: String,
}

/// Nodes and the edges between them, parent to child (indices into `nodes`).
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// The nodes.
    pub nodes: Vec<Node>,
    /// `(parent, child)` pairs.
    pub edges: Vec<(usize, usize)>,
}

impl Graph {
    /// The graph of `nodes` with the edges among them in `parents` (child id to parent ids);
    /// edges to ids not among `nodes` are left out.
    pub fn new(nodes: Vec<Node>, parents: &BTreeMap<String, Vec<String>>) -> Self {
        let index: BTreeMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
        let mut edges = Vec::new();
        for (child, ps) in parents {
            let Some(&c) = index.get(child.as_str()) else { continue };
            for p in ps {
                if let Some(&p) = index.get(p.as_str()) {
                    if p != c && !edges.contains(&(p, c)) {
                        edges.push((p, c));
                    }
                }
            }
        }
        edges.sort_unstable();
        Self { nodes, edges }
    }

    /// The part of the graph `id` is built from and feeds: its ancestors, itself, its descendants,
    /// and the edges among them.
    pub fn around(&self, id: &str) -> Self {
        let Some(focus) = self.nodes.iter().position(|n| n.id == id) else { return Self::default() };
        let mut keep = vec![false; self.nodes.len()];
        keep[focus] = true;
        for forward in [false, true] {
            let mut stack = vec![focus];
            while let Some(n) = stack.pop() {
                for &(p, c) in &self.edges {
                    let (from, to) = if forward { (p, c) } else { (c, p) };
                    if from == n && !keep[to] {
                        keep[to] = true;
                        stack.push(to);
                    }
                }
            }
        }
        let renumber: BTreeMap<usize, usize> =
            (0..self.nodes.len()).filter(|&i| keep[i]).enumerate().map(|(new, old)| (old, new)).collect();
        let nodes = renumber.keys().map(|&i| self.nodes[i].clone()).collect();
        let edges =
            self.edges.iter().filter(|(p, c)| keep[*p] && keep[*c]).map(|(p, c)| (renumber[p], renumber[c])).collect();
        Self { nodes, edges }
    }

    /// Each node's layer: 0 without parents, else one past its furthest parent.
    pub fn depths(&self) -> Vec<usize> {
        layers(self)
    }

    /// The SVG drawing, with the node `focus` (an id) marked.
    pub fn svg(&self, focus: Option<&str>, label: &str) -> String {
        let layout = Layout::of(self);
        let width = MARGIN * 2.0 + (layout.layers.len().max(1) - 1) as f64 * LAYER_STEP + NODE_WIDTH;
        let tallest = layout.layers.iter().map(Vec::len).max().unwrap_or(1) as f64;
        let height = MARGIN * 2.0 + (tallest - 1.0).max(0.0) * SLOT_STEP + NODE_HEIGHT;
        let mut out = String::new();
        let _ = write!(
            out,
            r#"<svg class="dag" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" role="img" aria-label="{}">"#,
            escape(label)
        );
        out.push_str(r#"<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z"/></marker></defs>"#);
        for (e, &(p, c)) in self.edges.iter().enumerate() {
            let points = layout.route(e, p, c);
            let mut d = format!("M{:.1},{:.1}", points[0].0, points[0].1);
            for pair in points.windows(2) {
                let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
                let bend = (x1 - x0) / 2.0;
                let _ = write!(d, " C{:.1},{y0:.1} {:.1},{y1:.1} {x1:.1},{y1:.1}", x0 + bend, x1 - bend);
            }
            let _ = write!(
                out,
                r#"<path class="edge" data-from="{}" data-to="{}" d="{d}" marker-end="url(#arrow)"/>"#,
                escape(&self.nodes[p].id),
                escape(&self.nodes[c].id)
            );
        }
        for (i, node) in self.nodes.iter().enumerate() {
            let (x, y) = layout.corner(i);
            let marked = if focus == Some(node.id.as_str()) { " focus" } else { "" };
            let shown: String = if node.label.chars().count() > LABEL_CHARS {
                node.label.chars().take(LABEL_CHARS - 1).chain(['…']).collect()
            } else {
                node.label.clone()
            };
            let _ = write!(
                out,
                r#"<a href="{href}"><g class="node {kind}{marked}" data-id="{id}"><title>{kind} {label}</title><rect x="{x:.1}" y="{y:.1}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="5"/><text x="{tx:.1}" y="{ty:.1}">{shown}</text></g></a>"#,
                href = escape(&node.href),
                kind = node.kind,
                id = escape(&node.id),
                label = escape(&node.label),
                tx = x + 8.0,
                ty = y + NODE_HEIGHT / 2.0 + 4.5,
                shown = escape(&shown),
            );
        }
        out.push_str("</svg>");
        out
    }
}

/// Where every node and edge placeholder sits: layers of slots, each slot a node or a
/// placeholder of a long edge.
struct Layout {
    /// Each layer's slots, top to bottom.
    layers: Vec<Vec<Slot>>,
    /// Each node's layer and slot.
    place: Vec<(usize, usize)>,
    /// Each long edge's placeholders' places, from the parent's side.
    bends: BTreeMap<usize, Vec<(usize, usize)>>,
}

/// A slot in a layer: a node, or the `n`th placeholder of edge `e`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Node(usize),
    Bend { edge: usize, step: usize },
}

impl Layout {
    fn of(graph: &Graph) -> Self {
        Self::swept(graph, SWEEPS)
    }

    /// The layout after `sweeps` barycentre sweeps, each followed by swaps of neighbours that
    /// cross fewer edges; the order with the fewest crossings seen is kept.
    fn swept(graph: &Graph, sweeps: usize) -> Self {
        let layer = layers(graph);
        let depth = layer.iter().copied().max().map_or(0, |d| d + 1);
        let mut layers: Vec<Vec<Slot>> = vec![Vec::new(); depth];
        let mut order: Vec<usize> = (0..graph.nodes.len()).collect();
        order.sort_by(|&a, &b| {
            (graph.nodes[a].kind, &graph.nodes[a].label).cmp(&(graph.nodes[b].kind, &graph.nodes[b].label))
        });
        for &n in &order {
            layers[layer[n]].push(Slot::Node(n));
        }
        for (e, &(p, c)) in graph.edges.iter().enumerate() {
            for (step, l) in (layer[p] + 1..layer[c]).enumerate() {
                layers[l].push(Slot::Bend { edge: e, step });
            }
        }
        // Each slot's neighbours in the layer before and after it.
        let up = |slot: Slot| -> Vec<Slot> {
            match slot {
                Slot::Node(n) => graph
                    .edges
                    .iter()
                    .enumerate()
                    .filter(|(_, &(_, c))| c == n)
                    .map(|(e, &(p, c))| {
                        if layer[c] - layer[p] > 1 {
                            Slot::Bend { edge: e, step: layer[c] - layer[p] - 2 }
                        } else {
                            Slot::Node(p)
                        }
                    })
                    .collect(),
                Slot::Bend { edge, step: 0 } => vec![Slot::Node(graph.edges[edge].0)],
                Slot::Bend { edge, step } => vec![Slot::Bend { edge, step: step - 1 }],
            }
        };
        let down = |slot: Slot| -> Vec<Slot> {
            match slot {
                Slot::Node(n) => graph
                    .edges
                    .iter()
                    .enumerate()
                    .filter(|(_, &(p, _))| p == n)
                    .map(
                        |(e, &(p, c))| {
                            if layer[c] - layer[p] > 1 {
                                Slot::Bend { edge: e, step: 0 }
                            } else {
                                Slot::Node(c)
                            }
                        },
                    )
                    .collect(),
                Slot::Bend { edge, step } => {
                    let (p, c) = graph.edges[edge];
                    if step + 2 == layer[c] - layer[p] {
                        vec![Slot::Node(c)]
                    } else {
                        vec![Slot::Bend { edge, step: step + 1 }]
                    }
                }
            }
        };
        let slots: Vec<Slot> = layers.iter().flatten().copied().collect();
        let ups: BTreeMap<Slot, Vec<Slot>> = slots.iter().map(|&s| (s, up(s))).collect();
        let downs: BTreeMap<Slot, Vec<Slot>> = slots.iter().map(|&s| (s, down(s))).collect();
        let mut best = (total_crossings(&layers, &downs), layers.clone());
        for sweep in 0..sweeps {
            let downward = sweep % 2 == 0;
            let range: Vec<usize> =
                if downward { (1..depth).collect() } else { (0..depth.saturating_sub(1)).rev().collect() };
            for l in range {
                let neighbour_layer = if downward { l - 1 } else { l + 1 };
                let position: BTreeMap<Slot, usize> =
                    layers[neighbour_layer].iter().enumerate().map(|(i, &s)| (s, i)).collect();
                let mut keyed: Vec<(f64, usize, Slot)> = layers[l]
                    .iter()
                    .enumerate()
                    .map(|(i, &slot)| {
                        let near = if downward { &ups[&slot] } else { &downs[&slot] };
                        let at: Vec<f64> = near.iter().filter_map(|s| position.get(s)).map(|&p| p as f64).collect();
                        let centre = if at.is_empty() { i as f64 } else { at.iter().sum::<f64>() / at.len() as f64 };
                        (centre, i, slot)
                    })
                    .collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                layers[l] = keyed.into_iter().map(|(_, _, s)| s).collect();
            }
            transpose(&mut layers, &ups, &downs);
            let crossings = total_crossings(&layers, &downs);
            if crossings < best.0 {
                best = (crossings, layers.clone());
            }
        }
        if sweeps > 0 {
            layers = best.1;
        }
        let mut place = vec![(0, 0); graph.nodes.len()];
        let mut bends: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
        for (l, slots) in layers.iter().enumerate() {
            for (i, slot) in slots.iter().enumerate() {
                match *slot {
                    Slot::Node(n) => place[n] = (l, i),
                    Slot::Bend { edge, step } => {
                        let entry = bends.entry(edge).or_default();
                        entry.resize(entry.len().max(step + 1), (0, 0));
                        entry[step] = (l, i);
                    }
                }
            }
        }
        Self { layers, place, bends }
    }

    /// The centre of slot `i` of layer `l`: layers are centred on the tallest.
    fn centre(&self, (l, i): (usize, usize)) -> (f64, f64) {
        let tallest = self.layers.iter().map(Vec::len).max().unwrap_or(1);
        let offset = (tallest - self.layers[l].len()) as f64 * SLOT_STEP / 2.0;
        (MARGIN + l as f64 * LAYER_STEP + NODE_WIDTH / 2.0, MARGIN + offset + i as f64 * SLOT_STEP + NODE_HEIGHT / 2.0)
    }

    /// The top-left corner of node `n`'s box.
    fn corner(&self, n: usize) -> (f64, f64) {
        let (x, y) = self.centre(self.place[n]);
        (x - NODE_WIDTH / 2.0, y - NODE_HEIGHT / 2.0)
    }

    /// The points edge `e` from `p` to `c` passes: out of the parent's right side, through its
    /// placeholders, into the child's left side.
    fn route(&self, e: usize, p: usize, c: usize) -> Vec<(f64, f64)> {
        let (px, py) = self.centre(self.place[p]);
        let (cx, cy) = self.centre(self.place[c]);
        let mut points = vec![(px + NODE_WIDTH / 2.0, py)];
        points.extend(self.bends.get(&e).into_iter().flatten().map(|&slot| self.centre(slot)));
        points.push((cx - NODE_WIDTH / 2.0, cy));
        points
    }
}

/// Crossings of the edges between every two neighbouring layers, `downs` giving each slot's
/// neighbours in the next layer.
fn total_crossings(layers: &[Vec<Slot>], downs: &BTreeMap<Slot, Vec<Slot>>) -> usize {
    (0..layers.len().saturating_sub(1))
        .map(|l| {
            let below: BTreeMap<Slot, usize> = layers[l + 1].iter().enumerate().map(|(i, &s)| (s, i)).collect();
            let mut ends: Vec<usize> = Vec::new();
            for slot in &layers[l] {
                let mut at: Vec<usize> = downs[slot].iter().filter_map(|t| below.get(t).copied()).collect();
                at.sort_unstable();
                ends.extend(at);
            }
            inversions(&mut ends)
        })
        .sum()
}

/// The pairs `i < j` with `v[i] > v[j]` (sorting `v` by merging).
fn inversions(v: &mut [usize]) -> usize {
    if v.len() < 2 {
        return 0;
    }
    let mid = v.len() / 2;
    let mut count = inversions(&mut v[..mid]) + inversions(&mut v[mid..]);
    let mut merged = Vec::with_capacity(v.len());
    let (mut i, mut j) = (0, mid);
    while i < mid && j < v.len() {
        if v[j] < v[i] {
            count += mid - i;
            merged.push(v[j]);
            j += 1;
        } else {
            merged.push(v[i]);
            i += 1;
        }
    }
    merged.extend_from_slice(&v[i..mid]);
    merged.extend_from_slice(&v[j..]);
    v.copy_from_slice(&merged);
    count
}

/// Swaps neighbouring slots of a layer wherever that crosses fewer edges with the layers on
/// either side, until no swap helps (or a few passes).
fn transpose(layers: &mut [Vec<Slot>], ups: &BTreeMap<Slot, Vec<Slot>>, downs: &BTreeMap<Slot, Vec<Slot>>) {
    for _ in 0..8 {
        let mut improved = false;
        for l in 0..layers.len() {
            let positions = |layer: Option<&Vec<Slot>>| -> BTreeMap<Slot, usize> {
                layer.into_iter().flatten().enumerate().map(|(i, &s)| (s, i)).collect()
            };
            let above = positions(l.checked_sub(1).map(|a| &layers[a]));
            let below = positions(layers.get(l + 1));
            // Crossings between the edges of `u` and `v` with `u` placed above `v`.
            let crossed = |u: Slot, v: Slot| -> usize {
                let mut n = 0;
                for (near, at) in [(ups, &above), (downs, &below)] {
                    let pu: Vec<usize> = near[&u].iter().filter_map(|s| at.get(s).copied()).collect();
                    let pv: Vec<usize> = near[&v].iter().filter_map(|s| at.get(s).copied()).collect();
                    n += pu.iter().map(|a| pv.iter().filter(|b| a > b).count()).sum::<usize>();
                }
                n
            };
            for k in 0..layers[l].len().saturating_sub(1) {
                let (u, v) = (layers[l][k], layers[l][k + 1]);
                if crossed(v, u) < crossed(u, v) {
                    layers[l].swap(k, k + 1);
                    improved = true;
                }
            }
        }
        if !improved {
            break;
        }
    }
}

/// Each node's layer: 0 without parents, else one past its furthest parent.
fn layers(graph: &Graph) -> Vec<usize> {
    let n = graph.nodes.len();
    let mut layer = vec![0; n];
    let mut waiting: Vec<usize> = vec![0; n];
    for &(_, c) in &graph.edges {
        waiting[c] += 1;
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    while let Some(p) = ready.pop() {
        for &(from, c) in &graph.edges {
            if from == p {
                layer[c] = layer[c].max(layer[p] + 1);
                waiting[c] -= 1;
                if waiting[c] == 0 {
                    ready.push(c);
                }
            }
        }
    }
    layer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(names: &[&str], edges: &[(&str, &str)]) -> Graph {
        let nodes = names
            .iter()
            .map(|n| Node { id: (*n).into(), label: (*n).into(), kind: "model", href: format!("{n}.html") })
            .collect();
        let mut parents: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (p, c) in edges {
            parents.entry((*c).into()).or_default().push((*p).into());
        }
        Graph::new(nodes, &parents)
    }

    #[test]
    fn a_node_sits_one_layer_past_its_furthest_parent() {
        let g = graph(&["a", "b", "c"], &[("a", "b"), ("b", "c"), ("a", "c")]);
        assert_eq!(layers(&g), vec![0, 1, 2]);
        let layout = Layout::of(&g);
        // The edge a -> c skips a layer: one placeholder in layer 1.
        assert_eq!(layout.layers[1].len(), 2);
        assert_eq!(layout.route(1, 0, 2).len(), 3);
    }

    #[test]
    fn sweeps_untangle_a_crossing() {
        // a1 -> b2 and a2 -> b1, named so that the first order crosses.
        let g = graph(&["a1", "a2", "b1", "b2"], &[("a1", "b2"), ("a2", "b1")]);
        let layout = Layout::of(&g);
        let (_, ya1) = layout.corner(0);
        let (_, ya2) = layout.corner(1);
        let (_, yb1) = layout.corner(2);
        let (_, yb2) = layout.corner(3);
        assert_eq!(ya1 < ya2, yb2 < yb1, "the edges cross: {ya1} {ya2} {yb1} {yb2}");
    }

    #[test]
    fn around_keeps_ancestors_and_descendants_only() {
        let g = graph(&["src", "a", "b", "side", "mart"], &[("src", "a"), ("a", "b"), ("src", "side"), ("b", "mart")]);
        let part = g.around("b");
        let names: Vec<&str> = part.nodes.iter().map(|n| n.label.as_str()).collect();
        assert_eq!(names, ["src", "a", "b", "mart"]);
        assert_eq!(part.edges.len(), 3);
        let svg = part.svg(Some("b"), "lineage of b");
        assert_eq!(svg.matches("<g class=\"node").count(), 4);
        assert_eq!(svg.matches("class=\"edge\"").count(), 3);
        assert!(svg.contains("node model focus\" data-id=\"b\""));
    }

    /// A warehouse of 50 models over 5 sources: raw, normalized, enriched and mart layers, each
    /// model reading one to three of the layer before (and now and then one further back).
    fn warehouse() -> Graph {
        let sizes = [5, 10, 14, 11, 10];
        let mut names: Vec<Vec<String>> = Vec::new();
        for (l, n) in sizes.iter().enumerate() {
            names.push((0..*n).map(|i| format!("l{l}_{i}")).collect());
        }
        let mut rng = 7u64;
        let mut next = |m: usize| {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (rng >> 33) as usize % m
        };
        let mut edges = Vec::new();
        for l in 1..sizes.len() {
            for child in &names[l] {
                for _ in 0..1 + next(3) {
                    let from = if l > 1 && next(4) == 0 { l - 2 } else { l - 1 };
                    edges.push((names[from][next(sizes[from])].clone(), child.clone()));
                }
            }
        }
        let all: Vec<&str> = names.iter().flatten().map(String::as_str).collect();
        let pairs: Vec<(&str, &str)> = edges.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
        graph(&all, &pairs)
    }

    #[test]
    fn fifty_models_draw_without_overlaps_and_with_few_crossings() {
        let g = warehouse();
        assert_eq!(g.nodes.len(), 50);
        let svg = g.svg(None, "fifty");
        assert_eq!(svg.matches("<g class=\"node").count(), 50);
        assert_eq!(svg.matches("class=\"edge\"").count(), g.edges.len());
        let layout = Layout::of(&g);
        let corners: Vec<(f64, f64)> = (0..g.nodes.len()).map(|i| layout.corner(i)).collect();
        for (i, a) in corners.iter().enumerate() {
            for b in &corners[i + 1..] {
                let apart = (a.0 - b.0).abs() >= NODE_WIDTH || (a.1 - b.1).abs() >= NODE_HEIGHT;
                assert!(apart, "boxes at {a:?} and {b:?} overlap");
            }
        }
        let (before, after) = (crossings(&g, &Layout::swept(&g, 0)), crossings(&g, &layout));
        assert!(after * 3 < before, "{before} crossings before the sweeps, {after} after");
    }

    /// Crossings between the segments of each gap between two layers.
    fn crossings(g: &Graph, layout: &Layout) -> usize {
        let mut segments: BTreeMap<i64, Vec<(f64, f64)>> = BTreeMap::new();
        for (e, &(p, c)) in g.edges.iter().enumerate() {
            for pair in layout.route(e, p, c).windows(2) {
                segments.entry(pair[0].0.round() as i64).or_default().push((pair[0].1, pair[1].1));
            }
        }
        segments
            .values()
            .map(|s| {
                let mut n = 0;
                for (i, a) in s.iter().enumerate() {
                    n += s[i + 1..].iter().filter(|b| (a.0 - b.0) * (a.1 - b.1) < 0.0).count();
                }
                n
            })
            .sum()
    }
}
