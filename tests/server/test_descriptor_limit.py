"""The agent raises its soft open-file limit as far as its client limits need and the hard
limit allows (a shell on stock Debian starts it with 1,024: about 960 clients, where 2,000 are
allowed), and says how many clients fit, and what to change, when the hard limit is short."""
import resource

import pytest


def limits_of(pid):
    with open(f"/proc/{pid}/limits") as f:
        line = next(line for line in f if line.startswith("Max open files"))
    soft, hard = line.split()[3:5]
    return int(soft), int(hard)


def starting_with(soft, hard):
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.parametrize("max_clients", [2000, 100])
def test_a_low_soft_limit_is_raised_to_what_the_clients_need(make_agent, max_clients):
    agent = make_agent("--max-clients", str(max_clients), preexec_fn=starting_with(256, 8192))
    needed = max_clients + 256 + 64     # one per connection, client or HTTP, and the agent's own
    assert limits_of(agent.proc.pid) == (max(256, needed), 8192)
    assert agent.get("/api/health")[0] == 200
    assert "too few descriptors" not in agent.log_text()


def test_a_short_hard_limit_is_reported_with_what_fits_and_what_to_change(make_agent):
    agent = make_agent(preexec_fn=starting_with(1024, 1024))
    assert limits_of(agent.proc.pid) == (1024, 1024)
    assert agent.get("/api/health")[0] == 200, "the agent serves what it can"
    log = agent.log_text()
    assert "too few descriptors for the clients allowed" in log, log
    assert "about 960 of the 2000 clients" in log and "ulimit -n 2320" in log and "LimitNOFILE=" in log, log
