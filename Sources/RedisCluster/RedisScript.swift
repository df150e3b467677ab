import CLibCrypto
import Wire

/// A Lua script that calls name by its SHA-1 digest (`EVALSHA`), so that each call carries 40 bytes instead of the
/// body: reading and digesting a 2 KB body costs Redis about 7 µs a call (docs/performance.md, "Runs of 5 Dec,
/// 14:00").
///
/// Each connection sends a script's body (`EVAL`) until one such call has succeeded on it, which leaves the script
/// in that server's cache, and its digest from then on (``RedisConnectionHandler``). A `NOSCRIPT` reply (the cache
/// was flushed) is an error like any other and makes the connection send the body again on the next call.
public struct RedisScript: Sendable, Hashable {
    /// The Lua source.
    public let source: [UInt8]
    /// The lower-case hex SHA-1 of ``source``, as Redis names the script.
    public let digest: [UInt8]

    public init(_ source: String) {
        self.source = Array(source.utf8)
        var sha1 = [UInt8](repeating: 0, count: 20)
        var length: UInt32 = 0
        let digested = EVP_Digest(self.source, self.source.count, &sha1, &length, EVP_sha1(), nil)
        precondition(digested == 1 && length == 20, "libcrypto computes no SHA-1")
        digest = Array(Hex.encode(sha1).utf8)
    }
}

extension RedisCommand {
    /// A call of `script` (`EVALSHA`, or `EVAL` with the body where the connection has not run it yet) with `keys`,
    /// which route it, and `arguments`.
    public init(script: RedisScript, keys: [[UInt8]], arguments: [[UInt8]]) {
        self.init(
            arguments: [Array("EVALSHA".utf8), script.digest, keys.count.redisArgument] + keys + arguments,
            keyPositions: Array(3..<(3 + keys.count)))
        self.script = script
    }

    /// The same command with the script's body in place of its digest (`EVAL`).
    var withScriptBody: RedisCommand {
        guard let script else { return self }
        var command = self
        command.arguments[0] = Array("EVAL".utf8)
        command.arguments[1] = script.source
        return command
    }
}
