// sarbench viewer: filters, sorts and draws the samples embedded in the page (sarbench/view/).
// Every string of the data reaches the page through textContent or an attribute setter: never
// as HTML, so a model's answer is always shown as the text it wrote.
"use strict";

// The page's data: base64 of gzip of JSON (sarbench/view/page.py).
async function readData() {
  const binary = atob(document.getElementById("sarbench-data").textContent.trim());
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return JSON.parse(await new Response(stream).text());
}

(async function () {
  const started = performance.now();
  if (typeof DecompressionStream === "undefined") {
    document.getElementById("count").textContent =
      "This browser cannot read the page's data (it needs DecompressionStream: Chrome 80, Firefox 113, Safari 16.4 or later).";
    return;
  }
  const DATA = await readData();
  const timings = { parse_ms: performance.now() - started };  // read by bench/bench_view.py
  const RUNS = DATA.runs;
  const TWO = RUNS.length === 2;
  const IMAGES = DATA.images;
  const SUBSETS = new Map(DATA.subsets.map((s) => [s.name, s]));
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // -- rows: one per sample id, holding each run's record (or null) --------------------------
  function stats(sample) {
    let tp = 0, fp = 0, fn = 0;
    for (const metric of Object.keys(sample.c)) {
      const c = sample.c[metric];
      tp += c[0]; fp += c[1]; fn += c[2];
    }
    const total = tp + fp + fn;
    return { tp, fp, fn, score: total ? tp / total : sample.ok };
  }

  function outcome(sample) {
    return sample ? JSON.stringify([sample.c, sample.pf, sample.cx === undefined ? null : sample.cx, sample.ok]) : "";
  }

  const rows = [];
  const byId = new Map();
  RUNS.forEach((run, k) => {
    for (const sample of run.samples) {
      let row = byId.get(sample.id);
      if (!row) {
        row = { id: sample.id, order: rows.length, runs: [null, null] };
        byId.set(sample.id, row);
        rows.push(row);
      }
      row.runs[k] = sample;
    }
  });
  for (const row of rows) {
    const first = row.runs[0] || row.runs[1];
    row.subset = first.s;
    row.stat = row.runs.map((s) => (s ? stats(s) : null));
    row.categories = new Set([...(row.runs[0] ? row.runs[0].cat : []), ...(row.runs[1] ? row.runs[1].cat : [])]);
    row.sizes = new Set(first.sz || []);
    row.disagree = TWO && row.runs[0] !== null && row.runs[1] !== null && outcome(row.runs[0]) !== outcome(row.runs[1]);
    row.delta = TWO && row.stat[0] && row.stat[1] ? row.stat[0].score - row.stat[1].score : 0;
  }

  function haystack(row) {
    if (row.text === undefined) {
      const parts = [row.id];
      for (const s of row.runs) if (s) parts.push(s.q || "", s.l, s.r, s.err || "");
      row.text = parts.join("\n").toLowerCase();
    }
    return row.text;
  }

  // -- filters ----------------------------------------------------------------------------------
  function fillSelect(select, values, label) {
    select.replaceChildren(new Option("all", ""));
    for (const [value, count] of values) select.append(new Option(`${label(value)} (${count})`, value));
  }

  function tally(get) {
    const counts = new Map();
    for (const row of rows) for (const value of get(row)) counts.set(value, (counts.get(value) || 0) + 1);
    return counts;
  }

  timings.rows_ms = performance.now() - started - timings.parse_ms;
  const subsetCounts = tally((row) => [row.subset]);
  fillSelect($("f-subset"), DATA.subsets.filter((s) => subsetCounts.has(s.name)).map((s) => [s.name, subsetCounts.get(s.name)]), (v) => v);
  const categoryCounts = tally((row) => row.categories);
  fillSelect($("f-category"), [...categoryCounts].sort((a, b) => (a[0] < b[0] ? -1 : 1)), (v) => v);
  const sizeCounts = tally((row) => row.sizes);
  fillSelect($("f-size"), DATA.sizes.filter((w) => sizeCounts.has(w)).map((w) => [w, sizeCounts.get(w)]), (v) => v);
  if (TWO) {
    $("f-run-label").hidden = false;
    $("f-compare-label").hidden = false;
  } else {
    for (const option of document.querySelectorAll("option.two-runs")) option.remove();
  }

  const state = { page: 0, filtered: rows.slice() };
  const value = (id) => $(id).value;

  function keep(row, f) {
    if (f.subset && row.subset !== f.subset) return false;
    if (f.category && !row.categories.has(f.category)) return false;
    if (f.size && !row.sizes.has(f.size)) return false;
    const own = row.runs[f.run];
    if (f.outcome || f.parse || f.error) {
      if (!own) return false;
      if (f.outcome === "correct" && !own.ok) return false;
      if (f.outcome === "wrong" && own.ok) return false;
      if (f.parse === "fail" && !own.pf) return false;
      if (f.parse === "ok" && own.pf) return false;
      if (f.error === "error" && !own.err) return false;
    }
    if (f.compare === "disagree" && !row.disagree) return false;
    if (f.compare === "a-better" && !(row.disagree && row.delta > 0)) return false;
    if (f.compare === "b-better" && !(row.disagree && row.delta < 0)) return false;
    if (f.compare === "only-a" && !(row.runs[0] && !row.runs[1])) return false;
    if (f.compare === "only-b" && !(row.runs[1] && !row.runs[0])) return false;
    if (f.text && !haystack(row).includes(f.text)) return false;
    return true;
  }

  const SORTS = {
    worst: (k) => (a, b) => score(a, k) - score(b, k),
    best: (k) => (a, b) => score(b, k) - score(a, k),
    fp: (k) => (a, b) => field(b, k, "fp") - field(a, k, "fp"),
    fn: (k) => (a, b) => field(b, k, "fn") - field(a, k, "fn"),
    id: () => (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    delta: () => (a, b) => Math.abs(b.delta) - Math.abs(a.delta),
  };
  const score = (row, k) => (row.stat[k] ? row.stat[k].score : -1);
  const field = (row, k, name) => (row.stat[k] ? row.stat[k][name] : -1);

  function apply() {
    const f = {
      subset: value("f-subset"), category: value("f-category"), size: value("f-size"),
      run: TWO ? Number(value("f-run")) : 0, outcome: value("f-outcome"), parse: value("f-parse"),
      error: value("f-error"), compare: TWO ? value("f-compare") : "", text: value("f-text").trim().toLowerCase(),
    };
    const filtered = rows.filter((row) => keep(row, f));
    const sort = SORTS[value("f-sort")];
    if (sort) {
      const compare = sort(f.run);
      filtered.sort((a, b) => compare(a, b) || a.order - b.order);
    }
    state.filtered = filtered;
    state.page = 0;
    const count = $("count");
    count.dataset.matching = String(filtered.length);
    const wrong = filtered.filter((r) => r.runs[f.run] && !r.runs[f.run].ok).length;
    const failed = filtered.filter((r) => r.runs[f.run] && r.runs[f.run].pf).length;
    count.textContent = `${filtered.length} of ${rows.length} samples \u00b7 ${wrong} wrong \u00b7 ${failed} parse failures` +
      (TWO ? ` (run ${"AB"[f.run]}) \u00b7 ${filtered.filter((r) => r.disagree).length} where A and B disagree` : "");
    render();
  }

  // -- drawing ----------------------------------------------------------------------------------
  function boxMetric(subset) {
    const metrics = (SUBSETS.get(subset) || { box: [] }).box;
    if (!metrics.length) return null;
    const wanted = Number(value("f-iou"));
    const exact = metrics.find((m) => m[1] === wanted);
    return (exact || metrics[0])[0];
  }

  function rect(svg, box, kind, label) {
    const [x1, y1, x2, y2] = box.map(Number);
    const r = document.createElementNS(SVG, "rect");
    r.setAttribute("x", String(Math.min(x1, x2)));
    r.setAttribute("y", String(Math.min(y1, y2)));
    r.setAttribute("width", String(Math.abs(x2 - x1)));
    r.setAttribute("height", String(Math.abs(y2 - y1)));
    r.setAttribute("class", `box ${kind}`);
    r.setAttribute("vector-effect", "non-scaling-stroke");
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${label} [${box.join(", ")}]`;
    r.append(title);
    svg.append(r);
  }

  function frame(sample) {
    const image = IMAGES[sample.img] || { missing: "no image" };
    const predicted = sample.p.b || [];
    const reference = sample.g.b || [];
    const asked = sample.qb || [];
    let width = image.w, height = image.h;
    if (!width || !height) {
      const all = [...predicted, ...reference, ...asked];
      width = Math.max(100, ...all.map((b) => Math.max(b[0], b[2])));
      height = Math.max(100, ...all.map((b) => Math.max(b[1], b[3])));
    }
    const figure = el("figure", "frame");
    const holder = el("div", "holder");
    if (image.src) {
      const img = document.createElement("img");
      img.src = image.src;
      img.alt = `image of ${sample.id}`;
      holder.append(img);
      holder.title = "click to enlarge (the original image, where this browser can read it)";
      holder.addEventListener("click", () => zoom(holder, img, image));
    } else {
      holder.classList.add("blank");
      holder.style.aspectRatio = `${width} / ${height}`;
    }
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("preserveAspectRatio", "none");
    const metric = boxMetric(sample.s);
    const pairs = metric && sample.m ? sample.m[metric] || [] : [];
    const hitPred = new Set(pairs.map((p) => p[0]));
    const hitRef = new Set(pairs.map((p) => p[1]));
    const refLabels = sample.g.bl || [], predLabels = sample.p.bl || [];
    asked.forEach((b) => rect(svg, b, "asked", "box named in the question"));
    reference.forEach((b, j) => rect(svg, b, hitRef.has(j) ? "ref-hit" : "ref-miss",
      `reference ${refLabels[j] || ""} ${hitRef.has(j) ? "matched" : "missed"}`));
    predicted.forEach((b, i) => rect(svg, b, hitPred.has(i) ? "pred-hit" : "pred-miss",
      `predicted ${predLabels[i] || ""} ${hitPred.has(i) ? "matched" : "unmatched"}`));
    holder.append(svg);
    figure.append(holder);
    const caption = el("figcaption");
    if (image.missing) caption.append(el("span", "missing", image.missing), " ");
    if (image.href) {
      const link = el("a", null, "original image");
      link.href = image.href;
      caption.append(link);
    }
    if (metric) caption.append(` \u00b7 matching of ${metric}`);
    figure.append(caption);
    return figure;
  }

  function zoom(holder, img, image) {
    const zoomed = holder.classList.toggle("zoomed");
    if (zoomed && image.href && img.src.startsWith("data:")) {
      img.onerror = () => { img.onerror = null; img.src = image.src; };  // original unreadable: keep the thumbnail
      img.src = image.href;
    }
  }

  function block(title, text, className) {
    const section = el("div", "field");
    section.append(el("h4", null, title), el("pre", className || null, text));
    return section;
  }

  function countsTable(sample) {
    const table = el("table", "counts");
    const head = el("tr");
    for (const name of ["metric", "TP", "FP", "FN"]) head.append(el("th", null, name));
    table.append(head);
    for (const metric of Object.keys(sample.c)) {
      const tr = el("tr");
      tr.append(el("td", null, metric), ...sample.c[metric].map((v) => el("td", null, v)));
      table.append(tr);
    }
    if (sample.ce !== undefined) {
      const tr = el("tr");
      const value = el("td", null, `${sample.ce} (${sample.cx ? "exact" : "not exact"})`);
      value.colSpan = 3;
      tr.append(el("td", null, "count error"), value);
      table.append(tr);
    }
    return table;
  }

  function runColumn(k, sample) {
    const column = el("section", "run");
    if (TWO) column.append(el("h3", null, `${"AB"[k]}: ${RUNS[k].name}`));
    if (!sample) {
      column.append(el("p", "missing", "not in this run"));
      return column;
    }
    const badges = el("p", "badges");
    badges.append(el("span", sample.ok ? "badge ok" : "badge wrong", sample.ok ? "correct" : "wrong"));
    if (sample.pf) badges.append(el("span", "badge fail", "parse failure"));
    if (sample.err) badges.append(el("span", "badge fail", "inference failure"));
    column.append(badges, frame(sample), countsTable(sample));
    if (sample.err) column.append(block("inference failure", sample.err, "error"));
    column.append(block("raw answer", sample.r, "answer"), block("parsed answer", JSON.stringify(sample.p), "parsed"));
    column.append(block("parsed reference", JSON.stringify(sample.g), "parsed"));
    return column;
  }

  function card(row) {
    const article = el("article", "card");
    article.id = `sample-${row.order}`;
    article.dataset.id = row.id;
    const first = row.runs[0] || row.runs[1];
    const header = el("header");
    const link = el("a", "permalink", row.id);
    link.href = `#s=${encodeURIComponent(row.id)}`;
    const subset = SUBSETS.get(row.subset);
    header.append(link, el("span", "subset", subset ? subset.label : row.subset));
    if (row.disagree) header.append(el("span", "badge disagree", "A and B disagree"));
    const shared = el("div", "shared");
    shared.append(block("prompt", first.q === undefined ? "(not in the run folder's predictions)" : first.q, "prompt"));
    shared.append(block("reference answer", first.l, "reference"));
    const columns = el("div", TWO ? "columns two" : "columns");
    RUNS.forEach((_, k) => columns.append(runColumn(k, row.runs[k])));
    article.append(header, shared, columns);
    return article;
  }

  // -- pages and permalinks ---------------------------------------------------------------------
  function render() {
    const single = singleId();
    $("single").hidden = single === null;
    $("controls").hidden = single !== null;
    $("pager").hidden = single !== null;
    if (single !== null) {
      const row = byId.get(single);
      $("single-note").textContent = row ? "" : `sample ${single} is not in this page`;
      $("list").replaceChildren(...(row ? [card(row)] : []));
      return;
    }
    const size = Number(value("f-page-size"));
    const pages = Math.max(1, Math.ceil(state.filtered.length / size));
    state.page = Math.min(Math.max(0, state.page), pages - 1);
    $("page-of").textContent = `page ${state.page + 1} of ${pages}`;
    $("prev").disabled = state.page === 0;
    $("next").disabled = state.page >= pages - 1;
    const start = state.page * size;
    $("list").replaceChildren(...state.filtered.slice(start, start + size).map(card));
  }

  function singleId() {
    if (!location.hash.startsWith("#s=")) return null;
    try {
      return decodeURIComponent(location.hash.slice(3));
    } catch (error) {
      return location.hash.slice(3);
    }
  }

  document.title = DATA.title;
  $("title").textContent = DATA.title;
  $("runs").textContent = RUNS.map((run, k) => `${TWO ? "AB"[k] + ": " : ""}${run.name} (${run.folder}, ${run.samples.length} samples)`).join(" \u00b7 ");
  for (const [k, run] of RUNS.entries()) {
    for (const note of run.notes) $("notes").append(el("li", null, `${TWO ? "AB"[k] + ": " : ""}${note}`));
  }
  $("generator").textContent = `made by ${DATA.generator}`;
  let typing = null;
  $("f-text").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(apply, 200);
  });
  $("controls").addEventListener("change", (event) => {
    if (event.target.id === "f-text") return;
    if (event.target.id === "f-page-size" || event.target.id === "f-iou") render();
    else apply();
  });
  $("controls").addEventListener("submit", (event) => event.preventDefault());
  $("prev").addEventListener("click", () => { state.page -= 1; render(); window.scrollTo(0, 0); });
  $("next").addEventListener("click", () => { state.page += 1; render(); window.scrollTo(0, 0); });
  window.addEventListener("hashchange", render);
  apply();
  timings.ready_ms = performance.now() - started;
  document.body.dataset.timings = JSON.stringify(timings);
})();
