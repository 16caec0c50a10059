// convlytics docs: search over models, columns and labels, and column lineage on a node page.
// Everything is in the page and in assets/search.js: nothing is fetched.
(function () {
  "use strict";

  const input = document.getElementById("search");
  const list = document.getElementById("search-results");
  const index = window.CONVLYTICS_SEARCH || [];
  const LIMIT = 30;

  // Entries whose name (first) or description hold every word of `query`.
  function find(query) {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.length) return [];
    const hits = [];
    for (const entry of index) {
      const name = entry.name.toLowerCase();
      const text = (entry.text || "").toLowerCase();
      if (!words.every((w) => name.includes(w) || text.includes(w))) continue;
      const exact = words.some((w) => name === w || name.endsWith("." + w)) ? 0 : 1;
      const inName = words.every((w) => name.includes(w)) ? 0 : 1;
      hits.push({ entry, rank: [exact, inName, name.length] });
    }
    hits.sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1] || a.rank[2] - b.rank[2]);
    return hits.slice(0, LIMIT).map((h) => h.entry);
  }

  function show(entries) {
    list.replaceChildren();
    for (const entry of entries) {
      const link = document.createElement("a");
      link.href = entry.href;
      const kind = document.createElement("span");
      kind.className = "hit-kind";
      kind.textContent = entry.kind;
      link.append(kind, document.createTextNode(entry.name));
      if (entry.text) {
        const text = document.createElement("span");
        text.className = "hit-text";
        text.textContent = entry.text;
        link.append(text);
      }
      const item = document.createElement("li");
      item.append(link);
      list.append(item);
    }
    if (!entries.length && input.value.trim()) {
      const item = document.createElement("li");
      item.textContent = "Nothing matches.";
      item.className = "hit-text";
      list.append(item);
    }
    list.hidden = !input.value.trim();
  }

  if (input && list) {
    input.addEventListener("input", () => show(find(input.value)));
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        input.value = "";
        show([]);
      } else if (event.key === "Enter") {
        const first = list.querySelector("a");
        if (first) window.location.href = first.href;
      } else if (event.key === "ArrowDown") {
        const first = list.querySelector("a");
        if (first) { event.preventDefault(); first.focus(); }
      }
    });
    document.addEventListener("click", (event) => {
      if (!list.contains(event.target) && event.target !== input) list.hidden = true;
    });
  }

  // A node's page opens its graph scrolled to the node.
  const focus = document.querySelector("#dag .node.focus rect");
  if (focus) {
    const frame = document.getElementById("dag");
    const box = focus.getBBox();
    frame.scrollLeft = Math.max(0, box.x + box.width / 2 - frame.clientWidth / 2);
    frame.scrollTop = Math.max(0, box.y + box.height / 2 - frame.clientHeight / 2);
  }

  // Column lineage: the columns the chosen one is computed from and feeds, listed and lit in the graph.
  const choice = document.getElementById("column-lineage");
  const data = document.getElementById("column-lineage-data");
  const result = document.getElementById("column-lineage-result");
  const dag = document.querySelector("#dag svg.dag");
  if (choice && data && result) {
    const lineage = JSON.parse(data.textContent);
    const here = document.querySelector("#dag .node.focus");
    const listOf = (title, columns) => {
      const part = document.createElement("div");
      const heading = document.createElement("strong");
      heading.textContent = `${title} (${columns.length})`;
      part.append(heading);
      const ul = document.createElement("ul");
      for (const c of columns) {
        const li = document.createElement("li");
        const link = document.createElement("a");
        link.href = c.href || "#";
        link.textContent = `${c.name || c.node}.${c.column}`;
        li.append(link);
        ul.append(li);
      }
      if (!columns.length) {
        const li = document.createElement("li");
        li.textContent = "none";
        ul.append(li);
      }
      part.append(ul);
      return part;
    };
    const trace = () => {
      const chosen = lineage[choice.value];
      result.replaceChildren();
      if (dag) {
        dag.classList.toggle("tracing", Boolean(chosen));
        for (const node of dag.querySelectorAll(".node")) node.classList.remove("lit");
      }
      if (!chosen) return;
      result.append(listOf("Computed from", chosen.up), listOf("Feeds", chosen.down));
      if (dag) {
        const lit = new Set(chosen.up.concat(chosen.down).map((c) => c.node));
        for (const node of dag.querySelectorAll(".node")) {
          if (lit.has(node.dataset.id) || node === here) node.classList.add("lit");
        }
      }
    };
    choice.addEventListener("change", trace);
    const wanted = window.location.hash.replace(/^#column-/, "");
    if (wanted && lineage[decodeURIComponent(wanted)]) {
      choice.value = decodeURIComponent(wanted);
      trace();
    }
  }
})();
