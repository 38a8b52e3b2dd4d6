import Testing
@testable import VoltCore

@Suite("Running mean")
struct RunningMeanTests {
    @Test func isTheExactMeanOverTheWarmUpThenForgetsAtAlpha() {
        var mean = RunningMean(warmup: 4, alpha: 0.5, initial: 100)
        #expect(mean.value == 100, "the initial guess until a value comes")
        mean.add(2)
        #expect(mean.value == 2, "the first value replaces the guess")
        mean.add(4)
        mean.add(6)
        #expect(mean.value == 4 && mean.count == 3)
        // From the fourth value on, each moves it by alpha of the way.
        mean.add(12)
        #expect(mean.value == 8)
    }

    @Test func learnsSlowlyWhenToldAndTakesANewLevelOutright() {
        var mean = RunningMean(warmup: 1, alpha: 0.5)
        mean.add(10, slowedBy: 20)
        #expect(mean.value == 0.25, "a twentieth of the usual step")
        mean.reset(to: 7)
        #expect(mean.value == 7 && mean.count == 1)
    }
}
