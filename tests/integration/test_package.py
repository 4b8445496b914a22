"""The Debian package: built with CPack, lintian reports no error, it installs with dpkg -i, the installed binary
and config work, and it purges cleanly. Needs root (CI runs as root); skipped otherwise."""
import os
import shutil
import subprocess
import tempfile
import unittest

CPACK_CONFIG = os.environ.get("CPACK_CONFIG", "")


def run(*args, timeout=300):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)


@unittest.skipUnless(os.geteuid() == 0 and CPACK_CONFIG and shutil.which("dpkg") and shutil.which("lintian"),
                     "needs root, dpkg, lintian and the build's CPackConfig.cmake")
class Package(unittest.TestCase):
    def test_build_lint_install_run_purge(self):
        if run("dpkg-query", "-W", "leadrelay").returncode == 0:
            self.skipTest("a leadrelay package is already installed on this machine; not touching it")
        with tempfile.TemporaryDirectory() as out:
            r = run("cpack", "--config", CPACK_CONFIG, "-B", out)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            debs = [f for f in os.listdir(out) if f.endswith(".deb")]
            self.assertEqual(len(debs), 1, os.listdir(out))
            deb = os.path.join(out, debs[0])

            r = run("lintian", "--fail-on", "error", deb)
            self.assertEqual(r.returncode, 0, "lintian errors:\n" + r.stdout + r.stderr)
            self.assertNotIn("E: ", r.stdout)

            r = run("dpkg", "-i", deb)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            try:
                r = run("/usr/bin/leadrelay", "--version")
                self.assertEqual(r.returncode, 0)
                self.assertTrue(r.stdout.startswith("leadrelay "))
                # The packaged config is valid as installed (the package made its secret).
                r = run("/usr/bin/leadrelay", "check-config", "/etc/leadrelay/config.yaml")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(run("getent", "passwd", "leadrelay").returncode, 0, "the package creates its user")
                for secret in ("marketplace.secret", "operator.token", "referrals-admin.token", "viewer.token"):
                    st = os.stat(f"/etc/leadrelay/{secret}")
                    self.assertEqual(st.st_mode & 0o777, 0o640, secret)
                    self.assertGreater(st.st_size, 32, secret)
                self.assertTrue(os.path.exists("/usr/lib/systemd/system/leadrelay.service"))
                self.assertTrue(os.path.exists("/usr/share/leadrelay/schemas/config.schema.json"))
                # The disposable-domain list ships as a data file naming its source and licence, and the
                # installed binary uses the installed lists (the packaged config names them).
                with open("/usr/share/leadrelay/lists/disposable_domains.txt") as f:
                    head = f.read(2000)
                self.assertIn("Licence: CC0-1.0", head)
                r = run("/usr/bin/leadrelay", "validate", "--no-dns", "--config", "/etc/leadrelay/config.yaml",
                        "--email", "x@mailinator.com")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn('"disposable_domain"', r.stdout)
                conffiles = run("dpkg-query", "-W", "-f=${Conffiles}", "leadrelay").stdout
                self.assertIn("/etc/leadrelay/config.yaml", conffiles)
            finally:
                r = run("dpkg", "--purge", "leadrelay")
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertFalse(os.path.exists("/usr/bin/leadrelay"))
            self.assertFalse(os.path.exists("/etc/leadrelay/marketplace.secret"))
            self.assertFalse(os.path.exists("/etc/leadrelay/viewer.token"))


if __name__ == "__main__":
    unittest.main()
