"""The seccomp filter systemd would give the agent under systemd/voltwatch.service, built from
the unit's own lines, for tests that run the agent under it (systemd is not PID 1 here).

- `SystemCallFilter=` lines applied in order (the first an allow list, `~` lines taking calls
  out, later plain lines adding them back), each `@group` expanded as this machine's
  `systemd-analyze syscall-filter` lists it, names numbered from <sys/syscall.h>;
- `SystemCallErrorNumber=EPERM`, `SystemCallArchitectures=native`;
- `RestrictAddressFamilies=` and `MemoryDenyWriteExecute=`, which systemd also makes with
  seccomp.

Plain Python (no pytest): tests/serial's umockdev driver uses it too.
"""
import errno
import functools
import mmap
import pathlib
import platform
import re
import shutil
import socket
import subprocess

import seccomp

ROOT = pathlib.Path(__file__).resolve().parents[1]
UNIT = ROOT / "systemd" / "voltwatch.service"
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}


def unit_settings(key):
    """Every value of `key=` in the unit, in file order."""
    return [line.split("=", 1)[1].strip() for line in UNIT.read_text().splitlines() if line.startswith(key + "=")]


@functools.cache
def expand(name):
    """The system calls `name` stands for: itself, or a group's members, nested groups expanded."""
    if not name.startswith("@"):
        return frozenset([name])
    out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager", name],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    members = [line.strip() for line in out.splitlines()[1:] if line.startswith("    ")]
    return frozenset().union(*(expand(m) for m in members if m and not m.startswith("#")))


def allowed_by_unit(drop=()):
    """The names the unit's filter lets through (without those in `drop`)."""
    lines = unit_settings("SystemCallFilter")
    assert lines and not lines[0].startswith("~"), "the unit's filter should start with an allow list"
    allowed = set()
    for line in lines:
        deny = line.startswith("~")
        names = set().union(*(expand(n) for n in line.lstrip("~").split()))
        allowed = allowed - names if deny else allowed | names
    return allowed - set(drop)


@functools.cache
def syscall_numbers():
    """name -> number on this machine, from the C library's <sys/syscall.h>."""
    compiler = shutil.which("cc") or shutil.which("clang")
    assert compiler, "a C compiler (cc or clang) is needed to read the system call numbers"
    out = subprocess.run([compiler, "-E", "-dM", "-include", "sys/syscall.h", "-x", "c", "/dev/null"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    defines = dict(re.findall(r"^#define (__NR\w*) (\S+)$", out, re.M))

    def value(token, depth=0):
        if token.isdigit():
            return int(token)
        return value(defines[token], depth + 1) if token in defines and depth < 5 else None

    numbers = {name[len("__NR_"):]: value(raw) for name, raw in defines.items() if name.startswith("__NR_")}
    return {name: number for name, number in numbers.items() if number is not None}


def argument_checks():
    """The unit's other seccomp-made settings, as systemd builds them:
    `RestrictAddressFamilies=` (socket() of another family fails with EAFNOSUPPORT) and
    `MemoryDenyWriteExecute=yes` (no writable and executable mapping, no mapping made
    executable later)."""
    numbers = syscall_numbers()
    (families,) = unit_settings("RestrictAddressFamilies")
    allowed_families = [int(getattr(socket, name)) for name in families.split()]
    checks = [(numbers["socket"], 0, ("in", allowed_families), errno.EAFNOSUPPORT)]
    assert unit_settings("MemoryDenyWriteExecute") == ["yes"]
    write_exec, exec_ = mmap.PROT_WRITE | mmap.PROT_EXEC, mmap.PROT_EXEC
    checks.append((numbers["mmap"], 2, ("mask", write_exec, write_exec), errno.EPERM))
    for name in ("mprotect", "pkey_mprotect"):
        checks.append((numbers[name], 2, ("mask", exec_, exec_), errno.EPERM))
    return checks


def program(drop=()):
    """The unit's filter as a seccomp program (bytes), without the calls in `drop`: the calls
    it allows, the rest EPERM (as its `SystemCallErrorNumber=EPERM`), other architectures
    refused, and the argument checks."""
    names = allowed_by_unit(drop)
    assert unit_settings("SystemCallErrorNumber") == ["EPERM"]
    assert unit_settings("SystemCallArchitectures") == ["native"]
    arch = AUDIT_ARCH.get(platform.machine())
    assert arch, f"no audit architecture known for {platform.machine()}"
    numbers = syscall_numbers()
    allowed = {numbers[n] for n in names if n in numbers}
    assert len(allowed) > 100, f"only {len(allowed)} of the unit's calls have numbers here"
    return seccomp.program(allowed, listed="allow", native_arch=arch, checks=argument_checks())


def preexec(drop=()):
    """A preexec function installing ``program(drop)``."""
    return seccomp.installer(program(drop))
