"""How fast the lab starts and stops, and what a request costs (prints figures; asserts nothing).

    .venv/bin/python benchmarks/lab_startup.py [--runs N]

Figures: importing `Lab` in a fresh interpreter, and that import plus the first
start there (what `--lab` costs a command), `Lab.start()` in a warm
process (the RSA keys come from the cache; the first run on a machine generates
them), `Lab.stop()` with a 90 s answer in flight (trigger-timeout), one HTTPS
request on a kept-alive connection, and the same with `latency_ms=50`.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import threading
import time

import requests

from diagnose.lab import Lab


def _ms(values: list[float]) -> str:
    values = sorted(v * 1000 for v in values)
    return f"median {statistics.median(values):7.1f} ms   min {values[0]:7.1f}   max {values[-1]:7.1f}   (n={len(values)})"


_FRESH = (
    "import time; t = time.perf_counter(); from diagnose.lab import Lab; i = time.perf_counter() - t\n"
    "lab = Lab('healthy').start(); s = time.perf_counter() - t; lab.stop(); print(i, s)"
)


def fresh_interpreter(runs: int) -> tuple[list[float], list[float]]:
    """(import of Lab and what it needs, import + first start) in a new Python process."""
    imports, starts = [], []
    for _ in range(runs):
        command = [sys.executable, "-c", _FRESH]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        i, s = (float(x) for x in out.split())
        imports.append(i)
        starts.append(s)
    return imports, starts


def start_times(runs: int) -> tuple[list[float], list[float]]:
    starts, stops = [], []
    for _ in range(runs):
        t = time.perf_counter()
        lab = Lab("healthy").start()
        starts.append(time.perf_counter() - t)
        t = time.perf_counter()
        lab.stop()
        stops.append(time.perf_counter() - t)
    return starts, stops


def stop_in_flight(runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        lab = Lab("trigger-timeout").start()
        env = lab.env
        token = requests.post(
            f"{env['DIAGNOSE_IMS_URL']}/ims/token/v3",
            data={
                "grant_type": "client_credentials",
                "client_id": env["DIAGNOSE_ADOBE_CLIENT_ID"],
                "client_secret": env["DIAGNOSE_ADOBE_CLIENT_SECRET"],
                "scope": env["DIAGNOSE_ADOBE_SCOPES"],
            },
            verify=lab.ca_bundle,
            timeout=10,
        ).json()["access_token"]
        headers = {
            "Authorization": f"Bearer {token}",
            "x-api-key": env["DIAGNOSE_ADOBE_CLIENT_ID"],
            "x-gw-ims-org-id": env["DIAGNOSE_IMS_ORG"],
            "x-sandbox-name": env["DIAGNOSE_SANDBOX"],
        }
        body = {
            "requestId": "bench",
            "campaignId": env["DIAGNOSE_CAMPAIGN_ID"],
            "recipients": [{"type": "aep", "namespace": "email", "userId": "a@example.com"}],
        }

        url = f"{env['DIAGNOSE_PLATFORM_URL']}/ajo/im/executions/unitary"
        kwargs = {"json": body, "headers": headers, "verify": lab.ca_bundle, "timeout": 120}
        thread = threading.Thread(target=_post_quietly, args=(url, kwargs), daemon=True)
        thread.start()
        while not any(r.path.endswith("/unitary") for r in lab.requests):
            time.sleep(0.005)
        t = time.perf_counter()
        lab.stop()
        out.append(time.perf_counter() - t)
        thread.join(5)
    return out


def _post_quietly(url: str, kwargs: dict) -> None:
    with contextlib.suppress(requests.RequestException):
        requests.post(url, **kwargs)


def request_times(latency_ms: float, runs: int) -> list[float]:
    with Lab("healthy", latency_ms=latency_ms) as lab:
        session = requests.Session()
        url = f"{lab.urls['arm']}/metadata/endpoints?api-version=2022-09-01"
        session.get(url, verify=lab.ca_bundle, timeout=10)  # connection and TLS set up
        out = []
        for _ in range(runs):
            t = time.perf_counter()
            session.get(url, verify=lab.ca_bundle, timeout=10).raise_for_status()
            out.append(time.perf_counter() - t)
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    print(f"python {sys.version.split()[0]}, {runs} runs each")
    Lab("healthy").start().stop()  # the key cache is warm from here on
    imports, firsts = fresh_interpreter(min(runs, 5))
    print(f"from diagnose.lab import Lab (new process) {_ms(imports)}")
    print(f"  ... import + Lab.start() (new process)   {_ms(firsts)}")
    starts, stops = start_times(runs)
    print(f"Lab.start() in process                    {_ms(starts)}")
    print(f"Lab.stop(), idle                          {_ms(stops)}")
    print(f"Lab.stop(), 90 s answer in flight         {_ms(stop_in_flight(min(runs, 5)))}")
    print(f"GET /metadata/endpoints, kept alive       {_ms(request_times(0, runs * 5))}")
    print(f"same with --latency-ms 50                 {_ms(request_times(50, runs))}")


if __name__ == "__main__":
    main()
