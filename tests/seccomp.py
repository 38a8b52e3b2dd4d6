"""Seccomp filters for running the agent where some system calls fail, as systemd's
`SystemCallFilter=`, `RestrictAddressFamilies=` and `MemoryDenyWriteExecute=` make them fail.

Plain Python (no pytest), so a driver run by the system python3 (under umockdev) can install
a program the test built. Linux only.
"""
import ctypes
import errno
import struct

PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000


def program(numbers, listed="deny", native_arch=None, checks=()):
    """A seccomp BPF program, as bytes. `listed="deny"`: the system calls numbered `numbers`
    fail with EPERM, the rest are allowed; `listed="allow"`: only those are allowed, the rest
    fail with EPERM. `native_arch` (an AUDIT_ARCH value): calls of any other architecture fail.

    `checks` look at a call's arguments first, as systemd's `RestrictAddressFamilies=` and
    `MemoryDenyWriteExecute=` do; each is `(number, argument index, test, errno)`, `test`
    being `("in", values)` (refused unless the argument is one of them) or
    `("mask", mask, value)` (refused when argument & mask == value).
    """
    assert listed in ("allow", "deny")
    def instruction(code, jt, jf, k):
        return struct.pack("HBBI", code, jt, jf, k)
    load_nr = instruction(0x20, 0, 0, 0)                    # A = seccomp_data.nr
    refuse = instruction(0x06, 0, 0, SECCOMP_RET_ERRNO | errno.EPERM)
    allow = instruction(0x06, 0, 0, SECCOMP_RET_ALLOW)
    out = []
    if native_arch is not None:
        out += [instruction(0x20, 0, 0, 4),             # A = seccomp_data.arch
                    instruction(0x15, 1, 0, native_arch),   # native: skip the refusal
                    refuse]
    for number, argument, test, error in checks:
        load_arg = instruction(0x20, 0, 0, 16 + 8 * argument)   # A = low word of args[i]
        fail = instruction(0x06, 0, 0, SECCOMP_RET_ERRNO | error)
        if test[0] == "in":
            values = list(test[1])
            body = [load_arg] + [instruction(0x15, len(values) - i, 0, v) for i, v in enumerate(values)] + [fail]
        else:
            _, mask, value = test
            body = [load_arg, instruction(0x54, 0, 0, mask), instruction(0x15, 0, 1, value), fail]
        out += [load_nr, instruction(0x15, 0, len(body), number)] + body
    out.append(load_nr)
    for number in sorted(set(numbers)):                     # listed: its verdict; else on
        out += [instruction(0x15, 0, 1, number), allow if listed == "allow" else refuse]
    out.append(refuse if listed == "allow" else allow)
    return b"".join(out)


def installer(code):
    """A preexec function that installs the program `code` in the child before exec (a filter
    is kept across exec, as systemd's is)."""
    def install():
        buffer = ctypes.create_string_buffer(code)
        fprog = struct.pack("HxxxxxxP", len(code) // 8, ctypes.addressof(buffer))
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
                libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.c_char_p(fprog), 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "seccomp filter not installed")
    return install


def seccomp_filter(numbers, listed="deny", native_arch=None, checks=()):
    """A preexec function installing `program(numbers, listed, native_arch, checks)`."""
    return installer(program(numbers, listed, native_arch, checks))
