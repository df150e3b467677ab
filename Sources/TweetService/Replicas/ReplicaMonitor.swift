import ServiceLifecycle

/// Measures the replicas' lag every ``ReplicaReads/Configuration/measurementInterval``, off the request path: each
/// measurement is two statements on connections of the monitor's own (on the pools' threads, never the cooperative
/// pool), so a replica that hangs delays only its own measurement, and then is skipped for being unmeasured.
public struct ReplicaMonitor: Service {
    let reads: ReplicaReads

    public init(reads: ReplicaReads) {
        self.reads = reads
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await reads.measure()
            try? await Task.sleep(for: reads.configuration.measurementInterval)
        }
    }
}
