import Synchronization

/// An atomic in a box, for sharing between tasks and connections.
final class SharedAtomic<Value: AtomicRepresentable & Sendable>: Sendable {
    let value: Atomic<Value>

    init(_ initialValue: Value) {
        value = Atomic(initialValue)
    }
}
