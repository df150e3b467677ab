import ServiceLifecycle

/// Measures the replicas' lag every ``ReplicaReads/Configuration/measurementInterval``, off the request path: each
/// measurement is two statements on connections of the monitor's own (on the pools' threads, never the cooperative
/// pool), and each server is measured by a loop of its own, so a replica that hangs delays only its own
/// measurements, and is then skipped for being unmeasured.
public struct ReplicaMonitor: Service {
    let reads: ReplicaReads

    public init(reads: ReplicaReads) {
        self.reads = reads
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for server in reads.serversWithReplicas {
                group.addTask {
                    while !Task.isShuttingDownGracefully && !Task.isCancelled {
                        await reads.measure(server: server)
                        try? await Task.sleep(for: reads.configuration.measurementInterval)
                    }
                }
            }
        }
    }
}
