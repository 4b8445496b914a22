// The sign-in page: where to go afterwards, and why the last try failed.
"use strict";
(function () {
  const params = new URLSearchParams(location.search);
  const next = params.get("next");
  if (next && next.startsWith("/console/")) document.getElementById("next").value = next;
  const failed = params.get("failed");
  if (failed) {
    const p = document.getElementById("failed");
    p.textContent = failed === "403" ? "That token's role may not read leads (an operator token?)."
                                     : "That token is not one of admin.tokens.";
    p.hidden = false;
  }
})();
