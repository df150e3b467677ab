import Testing

@testable import RedisCluster

@Suite struct RedisClientConfigurationTests {
    @Test func configurationReadsASeedList() {
        let configuration = RedisClient.Configuration(clusterSeeds: "127.0.0.1:17001, 127.0.0.1:17002")
        #expect(
            configuration?.mode
                == .cluster(seeds: [
                    RedisNodeAddress(host: "127.0.0.1", port: 17001), RedisNodeAddress(host: "127.0.0.1", port: 17002),
                ])
        )
        #expect(configuration?.connectionsPerNode == 2)
        #expect(RedisClient.Configuration(clusterSeeds: "") == nil)
    }
}
