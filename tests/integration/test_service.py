"""Running under systemd: the unit file passes systemd-analyze (verify, and an exposure of 2.0 or lower), and the daemon
tells systemd READY, RELOADING, STOPPING and watchdog pings over a real NOTIFY_SOCKET."""
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import BIN, SOURCE_DIR, Daemon, lead

UNIT = os.path.join(SOURCE_DIR, "deploy", "leadrelay.service")


class UnitFile(unittest.TestCase):
    def unit_copy(self, d):
        # systemd-analyze checks that ExecStart names an executable: point it at the built binary.
        with open(UNIT) as f:
            text = f.read().replace("/usr/bin/leadrelay", os.path.abspath(BIN))
        path = os.path.join(d, "leadrelay.service")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_verify_is_clean(self):
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run(["systemd-analyze", "verify", self.unit_copy(d)], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr.strip(), "", r.stderr)

    def test_backup_timer_and_service_verify_clean(self):
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for name in ("leadrelay-backup.service", "leadrelay-backup.timer"):
                with open(os.path.join(SOURCE_DIR, "deploy", name)) as f:
                    text = f.read()
                self.assertIn("enable --now leadrelay-backup.timer", text)  # shipped disabled; the unit says how
                paths.append(os.path.join(d, name))
                with open(paths[-1], "w") as f:
                    f.write(text)
            r = subprocess.run(["systemd-analyze", "verify", *paths], capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr.strip(), "", r.stderr)

    def test_exposure_is_2_or_lower(self):
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run(["systemd-analyze", "security", "--offline=true", self.unit_copy(d)],
                               capture_output=True, text=True, timeout=60)
            m = re.search(r"Overall exposure level for leadrelay.service: ([0-9.]+)", r.stdout)
            self.assertIsNotNone(m, r.stdout + r.stderr)
            print(f"systemd-analyze security: exposure {m.group(1)}", flush=True)
            self.assertLessEqual(float(m.group(1)), 2.0)

    def test_unit_declares_what_the_service_needs(self):
        with open(UNIT) as f:
            text = f.read()
        for line in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "StateDirectory=leadrelay",
                     "ConfigurationDirectory=leadrelay", "ExecStartPre=/usr/bin/leadrelay check-config",
                     "ExecReload=/usr/bin/leadrelay check-config", "User=leadrelay", "NoNewPrivileges=yes",
                     "CapabilityBoundingSet=\n", "ProtectSystem=strict", "PrivateTmp=yes",
                     "SystemCallFilter=@system-service", "RestrictAddressFamilies="):
            self.assertIn(line, text)


class Notify(unittest.TestCase):
    def test_ready_reloading_stopping_and_watchdog(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "notify")
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.bind(path)
            sock.settimeout(10)
            daemon = Daemon()
            try:
                daemon.start(env_extra={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"})

                def until(word):
                    seen = []
                    deadline = time.monotonic() + 10
                    while time.monotonic() < deadline:
                        message = sock.recv(4096).decode()
                        seen.append(message)
                        if word in message.split("\n"):
                            return seen
                    self.fail(f"no {word} from the daemon; got {seen}")

                until("READY=1")
                until("WATCHDOG=1")
                until("WATCHDOG=1")  # pings keep coming, every half interval
                self.assertEqual(daemon.post(lead(1))[0], 202)
                daemon.proc.send_signal(signal.SIGHUP)
                reloading = [m for m in until("READY=1") if "RELOADING=1" in m]
                self.assertTrue(reloading, "RELOADING=1 must come before READY=1 on a reload")
                self.assertIn("MONOTONIC_USEC=", reloading[0])
                daemon.proc.send_signal(signal.SIGTERM)
                until("STOPPING=1")
                self.assertEqual(daemon.proc.wait(30), 0)
                daemon.proc = None
            finally:
                daemon.close()
                sock.close()


if __name__ == "__main__":
    unittest.main()
