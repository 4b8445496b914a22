// Shared by the console's pages: the session (name, role, CSRF token), API calls with it, the header, and safe
// text (contact data comes from webhooks: it is only ever set as text, never as HTML).
"use strict";
const LR = (function () {
  let session = null;

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(e.dataset, v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  async function api(method, path, body) {
    const headers = {};
    if (method !== "GET") headers["X-CSRF-Token"] = session ? session.csrf : "";
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const r = await fetch(path, {method, headers, credentials: "same-origin",
                                 body: body === undefined ? undefined : JSON.stringify(body)});
    if (r.status === 401) {
      location.href = "/console/login?next=" + encodeURIComponent(location.pathname + location.search);
      throw new Error("signed out");
    }
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = {message: text}; }
    if (!r.ok) {
      const err = new Error((data && data.message) || ("HTTP " + r.status));
      err.status = r.status;
      err.data = data;
      throw err;
    }
    return data;
  }

  async function start(active) {
    session = await api("GET", "/console/session");
    document.body.dataset.role = session.role;
    const header = document.getElementById("header");
    const logout = el("form", {method: "post", action: "/console/logout", class: "inline"},
                      el("input", {type: "hidden", name: "csrf", value: session.csrf}),
                      el("button", {type: "submit", id: "sign-out", class: "link"}, "Sign out"));
    header.append(
      el("strong", {class: "brand"}, "leadrelay"),
      el("nav", {},
         el("a", {href: "/console/leads", class: active === "leads" ? "active" : null}, "Leads"),
         el("a", {href: "/console/insights", class: active === "insights" ? "active" : null}, "Insights")),
      el("span", {class: "who", id: "who"}, session.name + " (" + session.role + ")"),
      logout);
    // What the role may not do is hidden; the API refuses it anyway.
    for (const e of document.querySelectorAll("[data-needs=referrals_admin]")) {
      e.hidden = session.role !== "referrals_admin";
    }
    return session;
  }

  // A spreadsheet cell: text that a spreadsheet would run as a formula gets a leading apostrophe.
  function cell(v, sep) {
    let s = v === null || v === undefined ? "" : String(v);
    if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
    if (sep === "\t") return s.replace(/[\t\r\n]/g, " ");
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  function download(name, text, type) {
    const a = el("a", {href: URL.createObjectURL(new Blob([text], {type})), download: name});
    document.body.append(a);
    a.click();
    a.remove();
  }

  return {el, api, start, cell, download, get session() { return session; }};
})();
