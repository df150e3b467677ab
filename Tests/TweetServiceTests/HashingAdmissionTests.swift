import Testing
import Wire
import WireTestSupport

@testable import TweetService

/// The bounded password-hashing queue: admission by the work queued, and the refusal the Gateway turns into a 503.
@Suite("Password hashing queue")
struct HashingAdmissionTests {
    @Test func admitsWhileTheExpectedWaitIsWithinTheBound() {
        // Two threads, half a second a hash, two seconds of waiting: two run and eight wait.
        var admission = HashingAdmission(threads: 2, maxQueueWait: .seconds(2), estimatedHashTime: .milliseconds(500))
        var admitted = 0
        while admitted <= 100, admission.admit() {
            admitted += 1
        }
        #expect(admitted == 10)
        #expect(admission.expectedWait > 2)
        admission.finish(ranFor: .milliseconds(500))
        let roomAfterOne = admission.admit()
        let roomAfterTwo = admission.admit()
        #expect(roomAfterOne, "a finished hash makes room")
        #expect(!roomAfterTwo)
    }

    @Test func measuredHashTimesMoveTheBound() {
        var admission = HashingAdmission(threads: 1, maxQueueWait: .seconds(1), estimatedHashTime: .milliseconds(500))
        let firstThree = [admission.admit(), admission.admit(), admission.admit()]
        let fourth = admission.admit()
        #expect(firstThree == [true, true, true])
        #expect(!fourth)
        // Hashes turn out ten times faster than guessed: far more may wait.
        for _ in 0..<30 {
            admission.finish(ranFor: .milliseconds(50))
            _ = admission.admit()
        }
        #expect(admission.secondsPerHash < 0.06)
        var more = 0
        while admission.admit(), more < 100 {
            more += 1
        }
        #expect(more > 10)
        // A hash that never ran (refused, cancelled) is not measured.
        let before = admission.secondsPerHash
        admission.finish(ranFor: nil)
        #expect(admission.secondsPerHash == before)
    }

    @Test func aBurstBeyondTheQueueIsRefusedAtOnceAndTheRestSucceed() async throws {
        // One thread, N = 2^14 (a few tens of ms a hash): a queue of 0.2 s holds only a handful of 40.
        let hasher = PasswordHasher(
            configuration: PasswordHasher.Configuration(logN: 14, threads: 1, maxQueueWait: .milliseconds(200)))
        let outcomes = await withTaskGroup(of: String.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    await wireOutcome { try await hasher.hash("correct horse") } ?? "hashed"
                }
            }
            return await group.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
        }
        #expect(Set(outcomes.keys).isSubset(of: ["hashed", "resource_exhausted/hashing_busy"]), "\(outcomes)")
        #expect(outcomes["hashed", default: 0] >= 1)
        #expect(outcomes["resource_exhausted/hashing_busy", default: 0] >= 20, "\(outcomes)")
        // Once the queue drains, hashing works again.
        #expect(try await hasher.verify("correct horse", against: try await hasher.hash("correct horse")))
        try await hasher.shutdown()
    }
}
