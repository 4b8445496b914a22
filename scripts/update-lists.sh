#!/usr/bin/env bash
# Refreshes deploy/lists/ from the npm registry: the disposable-domain list (CC0), free-mail providers (MIT) and
# role mailbox names (MIT). Review the diff, commit it, and rebuild (the binary embeds these as its defaults);
# installed daemons pick up edited files under /usr/share/leadrelay/lists on `systemctl reload leadrelay`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
for pkg in disposable-email-domains-js free-email-domains role-based-email-addresses; do
  npm pack --silent "$pkg@latest" >/dev/null
done
for f in *.tgz; do mkdir -p "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done
python3 - "$root/deploy/lists" <<'PY'
import glob, json, re, sys
out = sys.argv[1]
def pkg(name):
    d = [p for p in glob.glob(name + "-[0-9]*") if not p.endswith(".tgz")][0]
    return d + "/package", d[len(name) + 1:]
dd, dv = pkg("disposable-email-domains-js")
fd, fv = pkg("free-email-domains")
rd, rv = pkg("role-based-email-addresses")
disposable = sorted({x.strip().lower() for x in json.load(open(dd + "/dist/dict/disposable_email_blocklist.json")) if x.strip()})
free = sorted({x.strip().lower() for x in json.load(open(fd + "/domains.json")) if x.strip()} - set(disposable))
roles = sorted(set(re.findall(r"'([^']+)'", open(rd + "/src/index.js").read())))
common = "# Refresh: scripts/update-lists.sh; then reload the daemon (systemctl reload leadrelay) to apply.\n" \
         "# Format: one {} per line, lower case; '#' starts a comment; blank lines are ignored.\n"
def write(name, header, items, what):
    with open(f"{out}/{name}", "w") as o:
        o.write(header + common.format(what) + "\n".join(items) + "\n")
write("disposable_domains.txt",
      "# disposable_domains.txt - throwaway (disposable) email domains: a lead whose email domain, or a parent of it up\n"
      "# to the registrable domain, is listed here gets email verdict Spam (reason disposable_domain).\n"
      f"# Source: npm package disposable-email-domains-js {dv} (https://github.com/mziyut/disposable-email-domains-js),\n"
      "#   a packaging of https://github.com/disposable-email-domains/disposable-email-domains (disposable_email_blocklist.conf).\n"
      "# Licence: CC0-1.0 (public domain dedication), as stated by both projects.\n", disposable, "domain")
write("free_mail_domains.txt",
      "# free_mail_domains.txt - free email providers (gmail.com, outlook.com, ...): a valid address, flagged free_mail\n"
      "# (a quality signal, never Spam or Invalid).\n"
      f"# Source: npm package free-email-domains {fv} (https://github.com/Kikobeats/free-email-domains), minus the domains\n"
      "#   already in disposable_domains.txt (that package includes them).\n"
      "# Licence: MIT, Copyright (c) 2017 Kiko Beats <josefrancisco.verdu@gmail.com> (kikobeats.com).\n", free, "domain")
write("role_mailboxes.txt",
      "# role_mailboxes.txt - role (shared) mailbox names: info@, sales@, noreply@, ... A valid address, flagged\n"
      "# role_mailbox (a quality signal: nobody in particular reads it), never Spam or Invalid.\n"
      f"# Source: npm package role-based-email-addresses {rv} (https://github.com/mixmaxhq/role-based-email-addresses),\n"
      "#   which includes the RFC 2142 names (postmaster, abuse, info, sales, support, marketing, ...).\n"
      "# Licence: MIT, Copyright (c) 2015 Mixmax, Inc.\n", roles, "local part")
print(f"disposable {len(disposable)} ({dv}), free mail {len(free)} ({fv}), roles {len(roles)} ({rv})")
PY
