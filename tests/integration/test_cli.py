"""The leadrelay command line: --version, --help, check-config and run's exit codes."""
import os
import subprocess
import tempfile
import unittest

from harness import BIN, SOURCE_DIR, Daemon


def run(*args, env=None, timeout=30):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout, env=env)


class Cli(unittest.TestCase):
    def test_version_and_help(self):
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^leadrelay \d+\.\d+\.\d+\n$")
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        for word in ("run --config FILE", "check-config FILE", "--version", "exit codes"):
            self.assertIn(word, r.stdout)

    def test_readme_lists_every_config_key(self):
        r = run("config-keys")
        self.assertEqual(r.returncode, 0)
        rows = [line for line in r.stdout.splitlines() if line.startswith("| `")]
        self.assertGreater(len(rows), 20)
        with open(os.path.join(SOURCE_DIR, "README.md")) as f:
            readme = f.read()
        stale = [row for row in rows if row not in readme]
        self.assertEqual(stale, [], "README's key table is stale: paste the output of 'leadrelay config-keys'")

    def test_usage_errors_exit_64(self):
        for args in ([], ["frobnicate"], ["run"], ["run", "--confg", "x"], ["check-config"]):
            r = run(*args)
            self.assertEqual(r.returncode, 64, args)
            self.assertIn("usage:", r.stderr)

    def test_check_config_accepts_the_example(self):
        with tempfile.TemporaryDirectory() as d:
            # The example names secrets/marketplace.secret relative to itself; give it one in a copy.
            os.makedirs(os.path.join(d, "secrets"))
            for name in ("marketplace.secret", "operator.token", "referrals-admin.token", "viewer.token"):
                with open(os.path.join(d, "secrets", name), "w") as f:
                    f.write(name + "-0123456789abcdef0123456789abcdef\n")
            with open(os.path.join(SOURCE_DIR, "config.example.yaml")) as src, \
                    open(os.path.join(d, "config.yaml"), "w") as dst:
                dst.write(src.read())
            r = run("check-config", os.path.join(d, "config.yaml"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("OK (1 source)", r.stdout)

    def test_check_config_reports_every_error_and_exits_78(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "bad.yaml")
            with open(path, "w") as f:
                f.write("state_dir: s\nserver:\n  lisen: x\n  io_threads: zero\n"
                        "sources:\n  - name: mp\n    path: /x\n    format: ms-marketplace\n"
                        "    auth: {secret_file: missing.secret}\n")
            r = run("check-config", path)
            self.assertEqual(r.returncode, 78)
            lines = r.stderr.strip().split("\n")
            self.assertEqual(lines[0], f"{path}:3:3: server.lisen: unknown key 'lisen'; did you mean 'listen'?")
            self.assertEqual(lines[1], f"{path}:4:15: server.io_threads: expected an integer, got 'zero'")
            self.assertTrue(lines[2].startswith(f"{path}:9:25: sources[0].auth.secret_file: cannot read secret file"),
                            lines[2])
            self.assertEqual(lines[3], "3 errors; nothing was started")

    def test_check_config_missing_file(self):
        r = run("check-config", "/nonexistent/leadrelay.yaml")
        self.assertEqual(r.returncode, 78)
        self.assertIn("/nonexistent/leadrelay.yaml:1:1: cannot read the config file: No such file or directory",
                      r.stderr)

    def test_run_with_invalid_config_exits_78_without_starting(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "bad.yaml")
            with open(path, "w") as f:
                f.write("state_dir: s\nsources: []\n")
            r = run("run", "--config", path)
            self.assertEqual(r.returncode, 78)
            self.assertIn("needs at least one source", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(d, "s")), "nothing may be created for an invalid config")

    def test_run_exits_69_when_the_port_is_taken(self):
        first = Daemon().start()
        try:
            second = Daemon(server={"listen": [f"127.0.0.1:{first.port}"]})
            try:
                r = run("run", "--config", second.config)
                self.assertEqual(r.returncode, 69, r.stderr)
                self.assertIn("cannot listen on 127.0.0.1:", r.stderr)
                self.assertIn("another process uses this port", r.stderr)
            finally:
                second.close()
        finally:
            first.close()

    def test_run_exits_73_when_the_store_cannot_be_opened(self):
        d = Daemon()
        try:
            with open(os.path.join(d.dir, "state"), "w") as f:
                f.write("a file where the state folder should be")
            r = run("run", "--config", d.config)
            self.assertEqual(r.returncode, 73, r.stderr)
            self.assertIn("store_open_failed", r.stderr)
        finally:
            d.close()


if __name__ == "__main__":
    unittest.main()
