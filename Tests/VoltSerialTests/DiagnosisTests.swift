import Testing
@testable import VoltSerial

@Suite struct DiagnosisTests {
    let alice = DoctorFacts.Account(name: "alice", uid: 1000, groups: [1000: "alice"])
    let service = DoctorFacts.Account(name: "voltwatch", uid: 998, groups: [998: "voltwatch", 20: "dialout"])
    let uno = DeviceInfo(path: "/dev/ttyACM0", sysPath: "/sys/x", vendorID: 0x2341, productID: 0x0043, product: "Arduino Uno")
    let dialoutNode = DoctorFacts.Node(mode: 0o20660, uid: 0, gid: 20, ownerName: "root", groupName: "dialout")
    let rule = ["/etc/udev/rules.d/99-voltwatch.rules"]

    func problems(_ findings: [Finding]) -> [Finding] { findings.filter { $0.severity == .problem } }

    @Test func noDeviceSaysPlugItInWithADataCable() {
        let findings = Diagnosis.run(DoctorFacts(devices: [], user: alice, installedRules: rule))
        #expect(problems(findings).count == 1)
        #expect(findings[0].subject == "devices")
        #expect(findings[0].fix?.contains("data cable") == true)
    }

    @Test func notInDialoutTellsWhichGroupToJoin() {
        let facts = DoctorFacts(devices: [.init(info: uno, node: dialoutNode, known: true)], user: alice, serviceUser: service, installedRules: rule)
        let found = problems(Diagnosis.run(facts))
        #expect(found.count == 1)
        #expect(found[0].message == "you (alice) cannot open it (rw-rw---- root:dialout): not in group dialout")
        #expect(found[0].fix?.hasPrefix("sudo usermod -aG dialout alice") == true)
    }

    @Test func theServiceUserIsCheckedToo() {
        var lonely = service
        lonely.groups = [998: "voltwatch"]
        var member = alice
        member.groups[20] = "dialout"
        let facts = DoctorFacts(devices: [.init(info: uno, node: dialoutNode, known: true)], user: member, serviceUser: lonely, installedRules: rule)
        let found = problems(Diagnosis.run(facts))
        #expect(found.count == 1)
        #expect(found[0].message.hasPrefix("the service user voltwatch cannot open it"))
        #expect(found[0].fix == "sudo usermod -aG dialout voltwatch && sudo systemctl restart voltwatch")
    }

    @Test func aRootOnlyNodeOfAKnownBoardWantsTheUdevRule() {
        let rootOnly = DoctorFacts.Node(mode: 0o20600, uid: 0, gid: 0, ownerName: "root", groupName: "root")
        let findings = Diagnosis.run(DoctorFacts(devices: [.init(info: uno, node: rootOnly, known: true)], user: alice))
        let found = problems(findings)
        #expect(found.count == 1)
        #expect(found[0].message.contains("rw------- root:root"))
        #expect(found[0].fix?.contains("99-voltwatch.rules") == true)
        #expect(findings.contains { $0.subject == "udev rule" && $0.severity == .warning })
    }

    @Test func rootReadsEverything() {
        let root = DoctorFacts.Account(name: "root", uid: 0, groups: [0: "root"])
        let rootOnly = DoctorFacts.Node(mode: 0o20600, uid: 0, gid: 0)
        let findings = Diagnosis.run(DoctorFacts(devices: [.init(info: uno, node: rootOnly, known: true)], user: root, installedRules: rule))
        #expect(problems(findings).isEmpty)
        #expect(findings.contains { $0.severity == .ok && $0.subject == "/dev/ttyACM0" && $0.message.contains("known board") })
    }

    @Test func aHolderIsNamedWithTheKillCommand() {
        var member = alice
        member.groups[20] = "dialout"
        let facts = DoctorFacts(devices: [.init(info: uno, node: dialoutNode, holder: "pid 812 (minicom)", known: true)],
                                user: member, installedRules: rule)
        let found = problems(Diagnosis.run(facts))
        #expect(found.map(\.message) == ["busy: pid 812 (minicom) holds it open; voltwatch cannot read it at the same time"])
        #expect(found[0].fix?.contains("sudo kill 812") == true)
    }

    @Test func aMissingNodeAndAnUnknownDevice() {
        let gps = DeviceInfo(path: "/dev/ttyUSB3", sysPath: "/sys/y", vendorID: 0x1546, productID: 0x01A7)
        let findings = Diagnosis.run(DoctorFacts(devices: [.init(info: gps, node: nil, known: false)], user: alice, installedRules: rule))
        #expect(findings.contains { $0.subject == "devices" && $0.severity == .warning && $0.fix?.contains("--device /dev/ttyUSB3") == true })
        #expect(findings.contains { $0.subject == "/dev/ttyUSB3" && $0.message.contains("does not exist") })
    }

    @Test func modemManagerIsFineWithTheRuleBrlttyNever() {
        let running: [(name: String, pid: Int32)] = [("ModemManager", 501), ("brltty", 502)]
        let root = DoctorFacts.Account(name: "root", uid: 0, groups: [:])
        let device = DoctorFacts.Device(info: uno, node: dialoutNode, known: true)
        let withRule = Diagnosis.run(DoctorFacts(devices: [device], user: root, interferingProcesses: running, installedRules: rule))
        #expect(withRule.first { $0.subject == "ModemManager" }?.severity == .ok)
        #expect(withRule.first { $0.subject == "brltty" }?.severity == .problem)
        let without = Diagnosis.run(DoctorFacts(devices: [device], user: root, interferingProcesses: running))
        let modemManager = without.first { $0.subject == "ModemManager" }
        #expect(modemManager?.severity == .warning)
        #expect(modemManager?.fix?.contains("systemctl disable --now ModemManager") == true)
    }

    @Test func modeString() {
        #expect(Diagnosis.modeString(0o660) == "rw-rw----")
        #expect(Diagnosis.modeString(0o755) == "rwxr-xr-x")
    }
}
