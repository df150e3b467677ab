import Foundation

/// Where the end-to-end tests run the system's processes: on loopback (the default), or on the hosts of a deployment
/// that `scripts/cluster up` made (`TWEETER_E2E_TARGET=cluster`, with the variables `scripts/cluster env` prints),
/// each process inside its host's network namespace, bound to its host's address, Wire beneath mutual TLS.
struct Placement: Sendable {
    /// A host: its network namespace (`nil` for this one) and the address its processes bind.
    struct Host: Sendable {
        var namespace: String?
        var address: String
    }

    var tweetService: Host
    var timelineServices: [Host]
    /// The Gateway's host; the tests' extra Gateways run there too, on ports of their own.
    var gateway: Host
    /// Two addresses of this process other than the one it connects from by default, to be other clients.
    var otherClientAddresses: [String]

    /// Whether the processes run on other hosts, where Wire always runs beneath TLS.
    var isCluster: Bool { gateway.namespace != nil }

    static let loopback = Placement(
        tweetService: Host(address: "127.0.0.1"),
        timelineServices: [Host(address: "127.0.0.1"), Host(address: "127.0.0.1")],
        gateway: Host(address: "127.0.0.1"),
        otherClientAddresses: ["127.0.0.2", "127.0.0.3"]
    )

    /// The placement the environment asks for.
    static func fromEnvironment() throws -> Placement {
        guard ProcessInfo.processInfo.environment["TWEETER_E2E_TARGET"] == "cluster" else { return .loopback }
        let tweetServices = try hosts("TWEETER_CLUSTER_TWEET_HOSTS")
        let timelineServices = try hosts("TWEETER_CLUSTER_TIMELINE_HOSTS")
        let gateways = try hosts("TWEETER_CLUSTER_GATEWAY_HOSTS")
        let clients = try SystemUnderTest.environment("TWEETER_CLUSTER_CLIENT_ADDRESSES").split(separator: ",")
        guard timelineServices.count >= 2, clients.count >= 3 else {
            throw EndToEndFailure("the cluster needs two TimelineService hosts and three client addresses")
        }
        return Placement(
            tweetService: tweetServices[0], timelineServices: Array(timelineServices.prefix(2)),
            gateway: gateways[0], otherClientAddresses: clients.dropFirst().prefix(2).map(String.init)
        )
    }

    /// Every address a service listens on, for the certificate they share.
    var serviceAddresses: [String] {
        Array(Set([tweetService.address, gateway.address] + timelineServices.map(\.address))).sorted()
    }

    /// `executable` with `arguments`, as started on `host`: through `ip netns exec`, which execs it (same PID).
    func command(_ executable: String, _ arguments: [String], on host: Host) -> (String, [String]) {
        guard let namespace = host.namespace else { return (executable, arguments) }
        return ("/usr/sbin/ip", ["netns", "exec", namespace, executable] + arguments)
    }

    /// `namespace=address,…` as `scripts/cluster env` writes it.
    private static func hosts(_ variable: String) throws -> [Host] {
        let hosts = try SystemUnderTest.environment(variable).split(separator: ",").compactMap { entry -> Host? in
            let parts = entry.split(separator: "=")
            guard parts.count == 2 else { return nil }
            return Host(namespace: String(parts[0]), address: String(parts[1]))
        }
        guard !hosts.isEmpty else { throw EndToEndFailure("\(variable) names no host") }
        return hosts
    }
}
