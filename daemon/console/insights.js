// Lead insights: each widget reads its own endpoint with the page's query string, so that a copied URL shows the
// same view. Each widget says data-state="loading|ready|empty|error"; the body says data-ready once all are done.
"use strict";
(function () {
  const {el} = LR;
  const WIDGETS = ["summary", "funnel", "offers", "geo", "programs", "reasons", "compare"];
  const FILTERS = ["customer", "country", "lead_type", "offer", "program"];
  const TILE_NAMES = {leads: "Leads", offer_leads: "Offer leads", profile_leads: "Profile leads",
                      won_value: "Won value (USD)", received: "Received", accepted: "Accepted", won: "Won"};
  const params = new URLSearchParams(location.search);
  const data = {};
  const charts = [];
  const COLORS = ["#2f6fd6", "#e0892f", "#3aa365", "#c0416b", "#7a5bd1", "#8a8f98", "#d4b030", "#36a3b5"];

  const number = (v) => v === null || v === undefined ? "—" : Number(v).toLocaleString("en-US", {maximumFractionDigits: 2});
  const usd = (v) => "$" + number(v);

  function controlsFromUrl() {
    const form = document.getElementById("controls");
    form.tab.value = params.get("tab") || "marketplace";
    form.range.value = params.get("range") || "3M";
    for (const f of ["from", "to", ...FILTERS]) if (params.get(f)) form[f].value = params.get(f);
    document.getElementById("by").value = params.get("by") || "lead_source";
    document.getElementById("measure").value = params.get("measure") || "count";
    for (const c of document.querySelectorAll(".custom")) c.hidden = form.range.value !== "custom";
    form.range.addEventListener("change", () => {
      for (const c of document.querySelectorAll(".custom")) c.hidden = form.range.value !== "custom";
    });
  }

  // The controls as the query string; navigating to it reloads every widget.
  function apply(event) {
    if (event) event.preventDefault();
    const form = document.getElementById("controls");
    const q = new URLSearchParams();
    if (form.tab.value !== "marketplace") q.set("tab", form.tab.value);
    if (form.range.value !== "3M") q.set("range", form.range.value);
    if (form.range.value === "custom") {
      q.set("from", form.from.value);
      q.set("to", form.to.value);
    }
    for (const f of FILTERS) if (form[f].value.trim()) q.set(f, form[f].value.trim());
    const by = document.getElementById("by").value, measure = document.getElementById("measure").value;
    if (by !== "lead_source") q.set("by", by);
    if (measure !== "count") q.set("measure", measure);
    location.search = q.toString();
  }

  function table(head, rows, id) {
    return el("table", {class: "grid", id},
              el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))),
              el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c))))));
  }

  function chart(parent, config) {
    const canvas = el("canvas", {});
    parent.append(el("div", {class: "chart"}, canvas));
    config.options = Object.assign({animation: false, responsive: true, maintainAspectRatio: false}, config.options || {});
    charts.push(new Chart(canvas, config));
  }

  function changeText(c) {
    if (c === null || c === undefined) return "no change shown (fewer than two full months)";
    if (c === "new") return "new";
    return (c > 0 ? "+" : "") + c + " %";
  }

  const render = {
    summary(d, body) {
      const months = d.range.months;
      body.append(el("div", {class: "tiles"}, ...d.tiles.map((t) =>
        el("div", {class: "tile", dataset: {tile: t.name}},
           el("div", {class: "label"}, TILE_NAMES[t.name] || t.name),
           el("div", {class: "value", dataset: {value: t.value}}, t.name === "won_value" ? usd(t.value) : number(t.value)),
           el("div", {class: "change"}, changeText(t.change))))));
      chart(body, {type: "bar", data: {labels: months.map((m) => m === d.range.partial ? m + " (so far)" : m),
        datasets: d.tiles.filter((t) => t.name !== "won_value").map((t, i) =>
          ({label: TILE_NAMES[t.name], data: t.months, backgroundColor: COLORS[i]}))}});
      unconverted(d, body);
    },
    funnel(d, body) {
      for (const g of d.groups) {
        const max = Math.max(1, g.received.count);
        const bar = (label, count, value) => el("div", {class: "stage"},
          el("span", {class: "stage-label"}, label),
          el("span", {class: "bar"}, el("span", {class: "fill", dataset: {pct: Math.round(100 * count / max)}})),
          el("span", {class: "stage-count"}, number(count) + (value === undefined ? "" : " · " + usd(value))));
        body.append(el("div", {class: "funnel", dataset: {group: g.name}},
          el("h3", {}, {contact_me: "Contact me offer leads", profile: "Profile leads", qualified: "Qualified leads"}[g.name]),
          bar("Received", g.received.count), bar("Accepted", g.accepted.count, g.accepted.value),
          bar("Won", g.won.count, g.won.value),
          el("div", {class: "note"}, "Win rate " + (g.win_rate === null ? "—" : g.win_rate + " %"))));
      }
      const p = d.past_leads;
      body.append(el("p", {}, "Past leads answered in the range: " + p.accepted + " accepted, " + p.declined +
                              " declined, " + p.won + " won, " + p.lost + " lost."),
                  el("p", {}, "Average acceptance time: " + number(d.average_acceptance_days) + " days; average time to win: " +
                              number(d.average_days_to_win) + " days."));
      const half = el("div", {class: "two"});
      body.append(half);
      for (const [key, title] of [["acceptance_time", "Acceptance time (days)"], ["time_to_win", "Time to win (days)"]]) {
        const box = el("div", {});
        half.append(box);
        box.append(el("h3", {}, title));
        chart(box, {type: "bar", data: {labels: d[key].map((b) => b.days),
                    datasets: [{label: "leads", data: d[key].map((b) => b.count), backgroundColor: COLORS[0]}]},
                    options: {plugins: {legend: {display: false}}}});
      }
      // Bar widths through CSSOM (allowed by the page's Content-Security-Policy, unlike style attributes).
      for (const f of body.querySelectorAll(".fill")) f.style.width = f.dataset.pct + "%";
    },
    offers(d, body) {
      const ctas = [...new Set(d.offers.flatMap((o) => Object.keys(o.by_call_to_action)))].sort();
      chart(body, {type: "bar", data: {labels: d.offers.map((o) => o.offer),
        datasets: ctas.map((c, i) => ({label: c, data: d.offers.map((o) => o.by_call_to_action[c] || 0),
                                       backgroundColor: COLORS[i % COLORS.length]}))},
        options: {scales: {x: {stacked: true}, y: {stacked: true}}}});
      body.append(table(["Offer", "Leads", "Accepted", "Won", "Won value (USD)"],
                        d.offers.map((o) => [o.offer, number(o.leads), number(o.accepted), number(o.won), usd(o.won_value)]),
                        "offers-table"));
    },
    geo(d, body) {
      const wrap = el("div", {class: "two"});
      const map = el("div", {class: "map", id: "world-map"});
      wrap.append(map, table(["Country", "Leads", "Accepted", "Won", "Won value (USD)"],
        d.countries.map((c) => [c.country, number(c.leads), number(c.accepted), number(c.won), usd(c.won_value)]),
        "geo-table"));
      body.append(wrap);
      // Five shades by share of the most leads (the map's scale is keyed by these names).
      const counts = {}, shades = {};
      const max = Math.max(1, ...d.countries.map((c) => c.leads));
      for (const c of d.countries) {
        counts[c.country] = c.leads;
        shades[c.country] = "s" + Math.min(4, Math.floor(5 * c.leads / (max + 1)));
      }
      new jsVectorMap({selector: "#world-map", map: "world", zoomButtons: false,
                       series: {regions: [{attribute: "fill", values: shades,
                                           scale: {s0: "#cfe0fb", s1: "#9fc0f3", s2: "#6f9fe8", s3: "#3f7fdc", s4: "#1d4fa3"}}]},
                       onRegionTooltipShow(event, tooltip, code) {
                         tooltip.text(tooltip.text() + ": " + (counts[code] || 0) + " leads");
                       }});
    },
    programs(d, body) {
      chart(body, {type: "pie", data: {labels: d.programs.map((p) => p.program),
        datasets: [{data: d.programs.map((p) => p.leads), backgroundColor: COLORS}]}});
      body.append(table(["Program", "Leads", "Accepted", "Expired", "Won", "Won value (USD)"],
        d.programs.map((p) => [p.program, number(p.leads), number(p.accepted),
                               number(p.expired.count) + " (" + number(p.expired.share) + " %)", number(p.won),
                               usd(p.won_value)]), "programs-table"));
    },
    reasons(d, body) {
      if (!d.declined.length && !d.lost.length) {
        body.append(el("p", {class: "empty"}, "No lead was declined or lost in the range."));
        return;
      }
      const labels = [...new Set([...d.declined, ...d.lost].map((r) => r.reason))];
      const of = (list, r) => (list.find((x) => x.reason === r) || {count: 0}).count;
      chart(body, {type: "bar", data: {labels, datasets: [
        {label: "Declined", data: labels.map((r) => of(d.declined, r)), backgroundColor: COLORS[1]},
        {label: "Lost", data: labels.map((r) => of(d.lost, r)), backgroundColor: COLORS[3]}]},
        options: {indexAxis: "y"}});
    },
    compare(d, body) {
      chart(body, {type: "line", data: {labels: d.range.months, datasets: d.series.map((s, i) =>
        ({label: s.value, data: s.months, borderColor: COLORS[i % COLORS.length], backgroundColor: COLORS[i % COLORS.length]}))}});
      body.append(table(["Value", "Total", ...d.range.months.map((m) => m + " share")],
        d.series.map((s) => [s.value, d.measure === "value" ? usd(s.total) : number(s.total),
                             ...s.shares.map((x) => x === null ? "—" : x + " %")]), "compare-table"));
    },
  };

  function unconverted(d, body) {
    if (d.unconverted && d.unconverted.length) {
      body.append(el("p", {class: "warning"}, "Not converted (no rate in insights.usd_rates): " +
                  d.unconverted.map((u) => number(u.value) + " " + u.currency).join(", ")));
    }
  }

  async function load(widget) {
    const section = document.querySelector(`[data-widget=${widget}]`);
    const body = section.querySelector(".body");
    try {
      const d = await LR.api("GET", "/api/v1/insights/" + widget + location.search);
      data[widget] = d;
      if (d.no_data) {
        body.append(el("p", {class: "empty"}, d.no_data.reason === "no_leads" ? "No lead is stored yet."
                                                                               : "No lead matches the range and filters."));
        section.dataset.state = "empty";
        return;
      }
      render[widget](d, body);
      section.dataset.state = "ready";
    } catch (e) {
      body.append(el("p", {class: "error"}, "Could not load: " + e.message));
      section.dataset.state = "error";
    }
  }

  // The widgets' data as one table per widget, for a spreadsheet.
  function exportRows() {
    const rows = [["# leadrelay lead insights", describe()]];
    for (const w of WIDGETS) {
      const d = data[w];
      if (!d || d.no_data) continue;
      rows.push([], ["## " + w]);
      if (w === "summary") {
        rows.push(["tile", "value", "change", ...d.range.months]);
        for (const t of d.tiles) rows.push([t.name, t.value, t.change, ...t.months]);
      } else if (w === "funnel") {
        rows.push(["group", "received", "accepted", "accepted value (USD)", "won", "won value (USD)", "win rate %"]);
        for (const g of d.groups) rows.push([g.name, g.received.count, g.accepted.count, g.accepted.value, g.won.count, g.won.value, g.win_rate]);
        for (const b of d.acceptance_time) rows.push(["acceptance days " + b.days, b.count]);
        for (const b of d.time_to_win) rows.push(["days to win " + b.days, b.count]);
      } else if (w === "offers" || w === "geo" || w === "programs") {
        const list = d[w === "geo" ? "countries" : w];
        const key = {offers: "offer", geo: "country", programs: "program"}[w];
        rows.push([key, "leads", "accepted", "won", "won value (USD)"]);
        for (const r of list) rows.push([r[key], r.leads, r.accepted, r.won, r.won_value]);
      } else if (w === "reasons") {
        rows.push(["status", "reason", "count"]);
        for (const r of d.declined) rows.push(["Declined", r.reason, r.count]);
        for (const r of d.lost) rows.push(["Lost", r.reason, r.count]);
      } else if (w === "compare") {
        rows.push([d.by, "total", ...d.range.months]);
        for (const s of d.series) rows.push([s.value, s.total, ...s.months]);
      }
    }
    return rows;
  }

  function describe() {
    const parts = [];
    const range = params.get("range") || "3M";
    parts.push("range " + (range === "custom" ? params.get("from") + " to " + params.get("to") : range));
    const s = data.summary && data.summary.range;
    if (s) parts.push("(" + s.from + " to " + s.to + (s.partial ? ", " + s.partial + " so far" : "") + ")");
    parts.push("tab " + (params.get("tab") || "marketplace"));
    for (const f of FILTERS) if (params.get(f)) parts.push(f + " " + params.get(f));
    return parts.join(", ");
  }

  document.addEventListener("DOMContentLoaded", async () => {
    controlsFromUrl();
    document.getElementById("controls").addEventListener("submit", apply);
    document.getElementById("by").addEventListener("change", () => apply());
    document.getElementById("measure").addEventListener("change", () => apply());
    for (const [id, sep, ext, type] of [["download-csv", ",", "csv", "text/csv"], ["download-tsv", "\t", "tsv", "text/tab-separated-values"]]) {
      document.getElementById(id).addEventListener("click", () => {
        const text = exportRows().map((r) => r.map((c) => LR.cell(c, sep)).join(sep)).join("\r\n") + "\r\n";
        LR.download("lead-insights." + ext, text, type);
      });
    }
    document.getElementById("download-pdf").addEventListener("click", () => window.print());
    try {
      await LR.start("insights");
    } catch (e) {
      return;
    }
    await Promise.all(WIDGETS.map(load));
    document.getElementById("print-header").textContent = "Lead insights: " + describe();
    document.body.dataset.ready = "true";
  });
})();
