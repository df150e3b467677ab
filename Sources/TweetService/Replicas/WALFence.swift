import Synchronization

/// A primary's WAL position read after the caller arrived, shared: every caller that arrived before one read of the
/// position began gets that read's answer, so that under load many replica reads wait on one statement to the
/// primary instead of sending one each.
///
/// A read that began before a caller arrived is never its answer (it could predate a commit the caller must see):
/// callers arriving during a read wait for the next one, which the first of them runs for all of them.
final class WALFence: Sendable {
    /// What a waiting caller is woken with.
    private enum Turn: Sendable {
        case position(Int64)
        case failed(any Error)
        /// Read the position for yourself and for these callers, who arrived before you began.
        case read(for: [CheckedContinuation<Turn, Never>])
    }

    private struct State: Sendable {
        var reading = false
        /// Callers that arrived while a read was running, for the next read.
        var queued: [CheckedContinuation<Turn, Never>] = []
    }

    private let state = Mutex(State())
    private let readPosition: @Sendable () async throws -> Int64

    /// - Parameter readPosition: one read of the primary's current WAL position.
    init(readPosition: @escaping @Sendable () async throws -> Int64) {
        self.readPosition = readPosition
    }

    /// A WAL position of the primary read after this call began.
    func position() async throws -> Int64 {
        let turn = await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
            let first = state.withLock { state in
                guard state.reading else {
                    state.reading = true
                    return true
                }
                state.queued.append(continuation)
                return false
            }
            if first {
                continuation.resume(returning: .read(for: []))
            }
        }
        switch turn {
        case .position(let position):
            return position
        case .failed(let error):
            throw error
        case .read(let cohort):
            let outcome: Result<Int64, any Error>
            do {
                outcome = .success(try await readPosition())
            } catch {
                outcome = .failure(error)
            }
            let next = state.withLock { state in
                defer { state.queued = [] }
                if state.queued.isEmpty {
                    state.reading = false
                }
                return state.queued
            }
            if let reader = next.first {
                reader.resume(returning: .read(for: Array(next.dropFirst())))
            }
            for waiter in cohort {
                switch outcome {
                case .success(let position): waiter.resume(returning: .position(position))
                case .failure(let error): waiter.resume(returning: .failed(error))
                }
            }
            return try outcome.get()
        }
    }
}
