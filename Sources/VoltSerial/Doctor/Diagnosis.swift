/// Why a board is not found or not readable, from ``DoctorFacts``: each finding names the
/// device or process and the command that fixes it. Pure: no file, device or process is
/// touched here.
public enum Diagnosis {
    /// Where scripts/install.sh puts the rule, for the fix text.
    public static let ruleInstallCommand =
        "sudo install -m 644 systemd/99-voltwatch.rules /etc/udev/rules.d/ && sudo udevadm control --reload && sudo udevadm trigger --subsystem-match=tty --action=add (or scripts/install.sh)"

    public static func run(_ facts: DoctorFacts) -> [Finding] {
        var findings: [Finding] = []
        if let error = facts.discoveryError {
            findings.append(Finding(.problem, "discovery", error, fix: "pass the port with `voltwatch run --device /dev/ttyACM0`"))
        }
        let ruleInstalled = !facts.installedRules.isEmpty
        findings += devices(facts, ruleInstalled: ruleInstalled)
        findings += processes(facts, ruleInstalled: ruleInstalled)
        if ruleInstalled {
            findings.append(Finding(.ok, "udev rule", "installed: \(facts.installedRules.joined(separator: ", "))"))
        } else {
            findings.append(Finding(.warning, "udev rule",
                                    "99-voltwatch.rules is not installed: boards keep the kernel's default permissions, ModemManager may probe them, and there is no /dev/voltwatch/ link",
                                    fix: ruleInstallCommand))
        }
        return findings
    }

    static func devices(_ facts: DoctorFacts, ruleInstalled: Bool) -> [Finding] {
        if facts.devices.isEmpty && facts.discoveryError == nil {
            return [Finding(.problem, "devices", "no USB serial device is plugged in (no tty with a USB parent)",
                            fix: "plug the board in with a data cable (a charge-only cable shows nothing); `dmesg -w` shows what the kernel sees when you plug it in")]
        }
        var findings: [Finding] = []
        if !facts.devices.isEmpty && !facts.devices.contains(where: \.known) {
            findings.append(Finding(.warning, "devices", "none of the serial devices is a known board, so auto-discovery picks none",
                                    fix: "name yours: `voltwatch run --device \(facts.devices[0].info.path)` (or its USB id, e.g. --device \(facts.devices[0].info.vidPid ?? "VID:PID"))"))
        }
        for device in facts.devices {
            let path = device.info.path
            let what = "\(device.info.vidPid ?? "no USB id") \(device.info.product ?? "")".trimmingCharacters(" ")
            guard let node = device.node else {
                findings.append(Finding(.problem, path, "udev lists it (\(what)) but the device node does not exist",
                                        fix: "unplug and replug the board; if it persists, check that udevd runs (`systemctl status systemd-udevd`)"))
                continue
            }
            var problems = 0
            var accounts = [facts.user]
            if let service = facts.serviceUser, service.uid != facts.user.uid { accounts.append(service) }
            for account in accounts {
                if let finding = access(node, path: path, account: account, isService: account.uid != facts.user.uid,
                                        known: device.known, ruleInstalled: ruleInstalled) {
                    findings.append(finding)
                    problems += 1
                }
            }
            if let holder = device.holder {
                findings.append(Finding(.problem, path, "busy: \(holder) holds it open; voltwatch cannot read it at the same time",
                                        fix: "close that program (serial monitor, minicom, screen) or stop it: `sudo kill \(pid(in: holder) ?? "PID")`"))
                problems += 1
            }
            if problems == 0 {
                let who = accounts.map(\.name).joined(separator: " and ")
                let picked = device.known ? "a known board, picked by auto-discovery" : "not a known board: use --device \(path)"
                findings.append(Finding(.ok, path, "\(what): readable by \(who); \(picked)"))
            }
        }
        return findings
    }

    /// A finding when `account` may not open the node for reading and writing.
    static func access(_ node: DoctorFacts.Node, path: String, account: DoctorFacts.Account, isService: Bool,
                       known: Bool, ruleInstalled: Bool) -> Finding? {
        if account.uid == 0 { return nil }
        let mode = node.mode & 0o777
        let rw: UInt32 = 0o6
        if node.uid == account.uid && (mode >> 6) & rw == rw { return nil }
        if account.groups[node.gid] != nil && (mode >> 3) & rw == rw { return nil }
        if mode & rw == rw { return nil }
        let owner = node.ownerName ?? String(node.uid)
        let group = node.groupName ?? String(node.gid)
        let perms = "\(modeString(mode)) \(owner):\(group)"
        let who = isService ? "the service user \(account.name)" : "you (\(account.name))"
        if (mode >> 3) & rw == rw && node.gid != 0 {
            let fix = isService
                ? "sudo usermod -aG \(group) \(account.name) && sudo systemctl restart voltwatch"
                : "sudo usermod -aG \(group) \(account.name), then log out and back in (or `newgrp \(group)`)"
            return Finding(.problem, path, "\(who) cannot open it (\(perms)): not in group \(group)", fix: fix)
        }
        let fix = known && !ruleInstalled
            ? "install the udev rule, which gives known boards group dialout and mode 0660: \(ruleInstallCommand)"
            : "give the node a serial group: a udev rule with GROUP=\"dialout\", MODE=\"0660\" for this device (see systemd/99-voltwatch.rules)"
        return Finding(.problem, path, "\(who) cannot open it (\(perms)): only \(owner) may", fix: fix)
    }

    static func processes(_ facts: DoctorFacts, ruleInstalled: Bool) -> [Finding] {
        facts.interferingProcesses.map { process in
            switch process.name {
            case "ModemManager":
                if ruleInstalled {
                    return Finding(.ok, "ModemManager", "running (pid \(process.pid)); the udev rule tells it to leave known boards alone")
                }
                return Finding(.warning, "ModemManager",
                               "running (pid \(process.pid)): it probes new serial ports with AT commands for seconds after plug-in, garbling frames and resetting an Uno",
                               fix: "install the udev rule (sets ID_MM_DEVICE_IGNORE), or if this gateway has no modem: sudo systemctl disable --now ModemManager")
            default:
                return Finding(.problem, process.name,
                               "running (pid \(process.pid)): brltty claims USB-serial bridges (CH340, CP210x) as braille displays and takes the port away",
                               fix: "if no braille display is used: sudo apt remove brltty (or sudo systemctl mask brltty-udev.service) and replug the board")
            }
        }
    }

    /// `rw-rw----`.
    static func modeString(_ mode: UInt32) -> String {
        let letters: [Character] = ["r", "w", "x"]
        return String((0..<9).map { i in mode & (1 << (8 - UInt32(i))) != 0 ? letters[i % 3] : "-" })
    }

    static func pid(in holder: String) -> String? {
        let parts = holder.split(separator: " ")
        guard parts.count >= 2, parts[0] == "pid" else { return nil }
        return String(parts[1])
    }
}
