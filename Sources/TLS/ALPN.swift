/// Application-Layer Protocol Negotiation (RFC 7301): the wire format of protocol lists and the server's choice.
///
/// Pure functions, so the choice made inside OpenSSL's callback is tested without a handshake.
enum ALPN {
    /// The protocol name list as it travels in the ALPN extension: each name prefixed by its one-byte length.
    ///
    /// - Throws: ``TLSError`` `invalid_configuration` for an empty name or one longer than 255 bytes.
    static func wireFormat(_ protocols: [String]) throws(TLSError) -> [UInt8] {
        var bytes: [UInt8] = []
        for name in protocols {
            let utf8 = Array(name.utf8)
            guard (1...255).contains(utf8.count) else {
                throw TLSError(.invalidConfiguration, "ALPN protocol name must be 1 to 255 bytes, got \(utf8.count)")
            }
            bytes.append(UInt8(utf8.count))
            bytes.append(contentsOf: utf8)
        }
        return bytes
    }

    /// The names in a wire-format list, or `nil` if the list is malformed (a length running past the end, or an
    /// empty name).
    static func names(inWireFormat bytes: UnsafeRawBufferPointer) -> [ArraySlice<UInt8>]? {
        var names: [ArraySlice<UInt8>] = []
        let all = Array(bytes)
        var index = 0
        while index < all.count {
            let length = Int(all[index])
            let start = index + 1
            guard length > 0, start + length <= all.count else { return nil }
            names.append(all[start..<start + length])
            index = start + length
        }
        return names
    }

    /// Where in the client's offer the server's most preferred protocol lies, as a byte range of `offer` (the name
    /// without its length prefix), or `nil` when the offer is malformed or shares no protocol with `preference`.
    ///
    /// The server's order wins over the client's: a client offering `h2,http/1.1` to a server preferring only
    /// `http/1.1` gets `http/1.1`.
    static func select(preference: [String], offer: UnsafeRawBufferPointer) -> Range<Int>? {
        guard let offered = names(inWireFormat: offer) else { return nil }
        for name in preference {
            let wanted = Array(name.utf8)
            if let match = offered.first(where: { $0.elementsEqual(wanted) }) {
                return match.startIndex..<match.endIndex
            }
        }
        return nil
    }
}
