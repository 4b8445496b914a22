// The leads workspace: the list with the leads API's filters (kept in the URL), validity and spam warnings, copy
// buttons, hot leads, favorites and pages; a lead's details with its history, and the accept/decline/win/lose forms
// for referral admins. Every value from a lead is set as text.
"use strict";
(function () {
  const {el, api} = LR;
  const LIST_FILTERS = ["status", "call_to_action", "lead_type", "classification", "lead_source", "quality",
                        "email_validity", "phone_validity", "country", "customer", "from", "to", "hot", "favorite"];
  const params = new URLSearchParams(location.search);

  const name = (l) => [l.contact.first_name, l.contact.last_name].filter(Boolean).join(" ") || "(no name)";
  // The hot flame: an SVG drawn here (no emoji font needed, nothing inline for the Content-Security-Policy).
  function flame() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 16 16");
    svg.setAttribute("width", "14");
    svg.setAttribute("height", "14");
    svg.setAttribute("aria-hidden", "true");
    const p = document.createElementNS(ns, "path");
    p.setAttribute("d", "M8 1c1 3 4 4.5 4 8.5A4 4 0 0 1 4 9.5C4 7 5.5 6 6 4c1 1.2 1.2 2.3 1 3.5C8.6 6.2 8.6 3.6 8 1z");
    p.setAttribute("fill", "#e8590c");
    svg.append(p);
    return el("span", {class: "hot", title: "Hot: the customer asked to be contacted"}, svg);
  }

  const when = (t) => t ? new Date(t).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "—";

  function validity(verdict, kind) {
    const ok = verdict === "Valid";
    const text = {Valid: "valid", Invalid: "invalid", Spam: "spam", Unknown: "not checked"}[verdict] || verdict || "—";
    return el("span", {class: "badge " + (ok ? "ok" : verdict === "Unknown" ? "muted" : "bad"),
                       title: kind + " " + text, dataset: {validity: verdict || ""}}, text);
  }

  function copyButton(value, what) {
    if (!value) return null;
    return el("button", {type: "button", class: "copy", title: "Copy " + what, dataset: {copy: value},
                         onclick: async (e) => {
                           try {
                             await navigator.clipboard.writeText(value);
                             e.target.textContent = "copied";
                           } catch (err) {
                             e.target.textContent = "copy failed";
                           }
                         }}, "copy");
  }

  function warnings(l) {
    const out = [];
    if (l.email_check && l.email_check.verdict === "Spam") out.push(el("span", {class: "warning", dataset: {warning: "spam"}}, "Spam warning"));
    if (l.quality === "Low") out.push(el("span", {class: "warning", dataset: {warning: "low"}}, "Low quality"));
    return out;
  }

  async function toggleFavorite(l, button) {
    const on = !l.lifecycle.favorite;
    const d = await api(on ? "PUT" : "DELETE", "/api/v1/leads/" + l.lead_id + "/favorite");
    l.lifecycle = d.lifecycle;
    button.textContent = l.lifecycle.favorite ? "★" : "☆";
    button.setAttribute("aria-pressed", String(l.lifecycle.favorite));
  }

  function row(l) {
    const c = l.contact;
    // Marking a favorite is a change: a viewer sees the star but cannot press it.
    const star = el("button", {type: "button", class: "star", title: "Favorite", "aria-pressed": String(l.lifecycle.favorite),
                               disabled: LR.session.role !== "referrals_admin"}, l.lifecycle.favorite ? "★" : "☆");
    star.addEventListener("click", () => toggleFavorite(l, star).catch((e) => alert(e.message)));
    return el("tr", {dataset: {lead: l.lead_id}},
      el("td", {}, star, l.lifecycle.hot ? flame() : null),
      el("td", {}, when(Date.parse(l.received_at))),
      el("td", {}, el("a", {href: "/console/leads/" + encodeURIComponent(l.lead_id), class: "lead-name"}, name(l)),
         el("div", {class: "sub"}, c.company || "")),
      el("td", {}, c.email || "—", " ", l.email_check ? validity(l.email_check.verdict, "email") : null, " ",
         copyButton(c.email, "email")),
      el("td", {}, c.phone || "—", " ", l.phone_check ? validity(l.phone_check.verdict, "phone") : null, " ",
         copyButton(c.phone, "phone")),
      el("td", {}, c.country || "—"),
      el("td", {}, (l.offer && (l.offer.title || l.offer.id)) || l.lead_type),
      el("td", {class: "status", dataset: {status: l.lifecycle.status}}, l.lifecycle.status),
      el("td", {}, ...warnings(l)));
  }

  async function list() {
    const form = document.getElementById("filters");
    for (const f of LIST_FILTERS) {
      const v = params.get(f);
      if (v === null) continue;
      if (form[f].type === "checkbox") form[f].checked = v === "true";
      else form[f].value = v;
    }
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const q = new URLSearchParams();
      for (const f of LIST_FILTERS) {
        const input = form[f];
        if (input.type === "checkbox") { if (input.checked) q.set(f, "true"); }
        else if (input.value.trim()) q.set(f, input.value.trim());
      }
      location.search = q.toString();
    });
    const query = new URLSearchParams(params);
    query.delete("cursor");
    for (const id of ["export-csv", "export-tsv"]) {
      const a = document.getElementById(id);
      const q = new URLSearchParams(query);
      q.set("format", id.endsWith("csv") ? "csv" : "tsv");
      a.href = "/api/v1/leads/export?" + q.toString();
    }
    const box = document.getElementById("list");
    try {
      const d = await api("GET", "/api/v1/leads" + (location.search || ""));
      if (!d.leads.length) {
        box.append(el("p", {class: "empty"}, "No lead matches these filters."));
        box.dataset.state = "empty";
      } else {
        box.append(el("table", {class: "grid leads", id: "leads-table"},
          el("thead", {}, el("tr", {}, ...["", "Received", "Name", "Email", "Phone", "Country", "Offer", "Status", ""]
                                               .map((h) => el("th", {}, h)))),
          el("tbody", {}, ...d.leads.map(row))));
        box.dataset.state = "ready";
      }
      const next = document.getElementById("next-page");
      if (d.next_cursor) {
        next.hidden = false;
        next.addEventListener("click", () => {
          const q = new URLSearchParams(params);
          q.set("cursor", d.next_cursor);
          location.search = q.toString();
        });
      }
    } catch (e) {
      box.append(el("p", {class: "error"}, "Could not load: " + e.message));
      box.dataset.state = "error";
    }
  }

  function field(label, value) {
    return el("div", {class: "field"}, el("span", {class: "label"}, label), el("span", {class: "value"}, value ?? "—"));
  }

  async function detail(id) {
    const box = document.getElementById("detail");
    let l;
    try {
      l = await api("GET", "/api/v1/leads/" + encodeURIComponent(id));
    } catch (e) {
      box.append(el("p", {class: "error"}, e.status === 404 ? "No lead with that id." : "Could not load: " + e.message));
      box.dataset.state = "error";
      return;
    }
    const c = l.contact, lc = l.lifecycle;
    box.append(
      el("h1", {id: "lead-name"}, name(l), lc.hot ? flame() : null),
      el("p", {}, el("span", {class: "status", id: "lead-status", dataset: {status: lc.status}}, lc.status), " ",
         ...warnings(l)),
      el("div", {class: "fields"},
         field("Company", c.company), field("Title", c.title),
         el("div", {class: "field"}, el("span", {class: "label"}, "Email"),
            el("span", {class: "value"}, c.email || "—", " ", validity(l.email_check && l.email_check.verdict, "email"), " ",
               copyButton(c.email, "email"))),
         el("div", {class: "field"}, el("span", {class: "label"}, "Phone"),
            el("span", {class: "value"}, c.phone || "—", " ", validity(l.phone_check && l.phone_check.verdict, "phone"), " ",
               copyButton(c.phone, "phone"))),
         field("Country", c.country), field("Offer", l.offer && (l.offer.title || l.offer.id)),
         field("Lead type", l.lead_type), field("Classification", l.classification), field("Program", l.program),
         field("Received", when(Date.parse(l.received_at))), field("Expires", when(lc.expires_at && Date.parse(lc.expires_at))),
         field("Deal", lc.deal && lc.deal.name ? lc.deal.name + " · " + lc.deal.value + " " + lc.deal.currency : null),
         field("Reason", lc.reason), field("Notes", lc.notes), field("Message", l.description)),
      el("h2", {}, "History"),
      el("ol", {class: "history", id: "history"}, ...(l.history.length ? l.history.map((h) =>
        el("li", {}, when(Date.parse(h.at)) + " · " + h.actor + " · " + h.action + ": " + (h.from_status || "") + " → " +
           (h.to_status || ""))) : [el("li", {}, "No change yet.")])));
    box.dataset.state = "ready";
    await actionForms(l);
  }

  async function actionForms(l) {
    const box = document.getElementById("actions");
    if (LR.session.role !== "referrals_admin" || !l.lifecycle.allowed_actions.length) return;
    const reasons = (await api("GET", "/api/v1/reasons")).reasons;
    const reasonSelect = () => el("select", {name: "reason", required: true},
                                  ...reasons.map((r) => el("option", {value: r.label}, r.label)));
    const inputs = {
      accept: () => [el("label", {}, "Deal name ", el("input", {name: "deal_name", required: true})),
                     el("label", {}, "Value ", el("input", {name: "deal_value", type: "number", min: "0", step: "any", required: true})),
                     el("label", {}, "Currency ", el("input", {name: "currency", value: "USD", size: "4", required: true})),
                     el("label", {}, "Close date ", el("input", {name: "close_date", type: "date", required: true})),
                     el("label", {}, "Notes ", el("input", {name: "notes", required: true}))],
      decline: () => [el("label", {}, "Reason ", reasonSelect()), el("label", {}, "Notes ", el("input", {name: "notes"}))],
      win: () => [el("label", {}, "Deal value ", el("input", {name: "deal_value", type: "number", min: "0", step: "any"})),
                  el("label", {}, "Notes ", el("input", {name: "notes"}))],
      lose: () => [el("label", {}, "Reason ", reasonSelect()), el("label", {}, "Notes ", el("input", {name: "notes"}))],
    };
    box.append(el("h2", {}, "Answer"));
    for (const action of l.lifecycle.allowed_actions) {
      if (!inputs[action]) continue;
      const message = el("span", {class: "message"});
      const form = el("form", {class: "action", id: "form-" + action}, el("strong", {}, action), ...inputs[action](),
                      el("button", {type: "submit"}, action[0].toUpperCase() + action.slice(1)), message);
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const body = {};
        for (const [k, v] of new FormData(form)) {
          if (v === "") continue;
          body[k] = k === "deal_value" ? Number(v) : v;
        }
        try {
          await api("POST", "/api/v1/leads/" + encodeURIComponent(l.lead_id) + "/" + action, body);
          location.reload();
        } catch (err) {
          message.textContent = err.message;
          message.className = "message error";
        }
      });
      box.append(form);
    }
    box.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", async () => {
    try {
      await LR.start("leads");
    } catch (e) {
      return;
    }
    const m = location.pathname.match(/^\/console\/leads\/([A-Za-z0-9-]+)$/);
    if (m) {
      document.getElementById("detail-view").hidden = false;
      await detail(m[1]);
    } else {
      document.getElementById("list-view").hidden = false;
      await list();
    }
    document.body.dataset.ready = "true";
  });
})();
