import Testing
@testable import VoltSerial

@Suite struct ReconnectMachineTests {
    let policy = ReconnectPolicy(initialDelayMs: 100, maxDelayMs: 1_000)

    @Test func opensAtOnceWhenPresentAndWaitsWhenNot() {
        var present = ReconnectMachine(policy: policy)
        #expect(present.start(devicePresent: true) == .open)
        var absent = ReconnectMachine(policy: policy)
        #expect(absent.start(devicePresent: false) == .waitForDevice)
        #expect(absent.timerFired(devicePresent: true) == .open)
    }

    @Test func failedOpensBackOffExponentiallyUpToTheCap() {
        var machine = ReconnectMachine(policy: policy)
        _ = machine.start(devicePresent: true)
        let delays = (0..<6).map { _ in machine.openFailed(retryable: true, devicePresent: true) }
        #expect(delays == [.retry(afterMs: 100), .retry(afterMs: 200), .retry(afterMs: 400),
                           .retry(afterMs: 800), .retry(afterMs: 1_000), .retry(afterMs: 1_000)])
    }

    @Test func nonRetryableFailuresRetryAtTheSlowestPace() {
        var machine = ReconnectMachine(policy: policy)
        _ = machine.start(devicePresent: true)
        #expect(machine.openFailed(retryable: false, devicePresent: true) == .retry(afterMs: 1_000))
    }

    @Test func dataResetsTheBackoffSoAReplugIsQuick() {
        var machine = ReconnectMachine(policy: policy)
        _ = machine.start(devicePresent: true)
        _ = machine.openFailed(retryable: true, devicePresent: true)
        _ = machine.openFailed(retryable: true, devicePresent: true)
        #expect(machine.timerFired(devicePresent: true) == .open)
        #expect(machine.opened() == .read)
        machine.dataReceived()
        #expect(machine.connectionLost(devicePresent: true) == .retry(afterMs: 100))
        #expect(machine.connections == 1)
    }

    @Test func aPortThatHangsUpBeforeAnyDataBacksOffFurther() {
        var machine = ReconnectMachine(policy: policy)
        _ = machine.start(devicePresent: true)
        _ = machine.opened()
        #expect(machine.connectionLost(devicePresent: true) == .retry(afterMs: 100))
        _ = machine.timerFired(devicePresent: true)
        _ = machine.opened()
        #expect(machine.connectionLost(devicePresent: true) == .retry(afterMs: 200))
    }

    @Test func aVanishedDeviceIsWaitedForWithoutATimer() {
        var machine = ReconnectMachine(policy: policy)
        _ = machine.start(devicePresent: true)
        _ = machine.opened()
        machine.dataReceived()
        #expect(machine.connectionLost(devicePresent: false) == .waitForDevice)
        #expect(machine.state == .waitingForDevice)
        #expect(machine.timerFired(devicePresent: true) == .open)
    }

    @Test(arguments: [1, 2, 3, 10, 50])
    func delaysNeverExceedTheCapNorGoBelowTheFirst(failures: Int) {
        let delay = policy.delay(afterFailures: failures)
        #expect(delay >= 100 && delay <= 1_000)
    }
}
