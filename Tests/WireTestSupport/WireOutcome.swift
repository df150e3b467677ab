import Wire

/// What `body` ended with, as tests compare it: `nil` when it returned, the `code/reason` of the ``WireError`` it
/// threw (`resource_exhausted/fan_out_behind`), or the description of any other error.
public func wireOutcome<T>(_ body: () async throws -> T) async -> String? {
    do {
        _ = try await body()
        return nil
    } catch let error as WireError {
        return "\(error.code)/\(error.reason)"
    } catch {
        return "\(error)"
    }
}
