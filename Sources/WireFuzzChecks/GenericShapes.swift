import NIOCore
import Wire

// Message shapes that no method uses, decoded from every payload so that the fuzzer reaches every path of the codec:
// every scalar width, strings, bytes, arrays, optionals, nested and recursive messages.

/// Every scalar the reader knows.
struct Scalars: WireMessage, Equatable {
    var u8: UInt8, u16: UInt16, u32: UInt32, u64: UInt64, i32: Int32, flag: Bool

    init(from reader: inout WireReader) throws(WireError) {
        u8 = try reader.read()
        u16 = try reader.read()
        u32 = try reader.read()
        u64 = try reader.read()
        i32 = try reader.read()
        flag = try reader.read()
    }

    func encode(to writer: inout WireWriter) {
        writer.write(u8)
        writer.write(u16)
        writer.write(u32)
        writer.write(u64)
        writer.write(i32)
        writer.write(flag)
    }
}

/// Strings, bytes, arrays and optionals.
struct Collections: WireMessage, Equatable {
    var name: String
    var ids: [UInt64]
    var tags: [String]
    var blob: ByteBuffer?
    var note: String?

    init(from reader: inout WireReader) throws(WireError) {
        name = try reader.read(String.self, maxBytes: 64)
        ids = try reader.read([UInt64].self)
        tags = try reader.readArray(minimumElementSize: 4) { (reader: inout WireReader) throws(WireError) in
            try reader.read(String.self)
        }
        blob = try reader.readOptional { (reader: inout WireReader) throws(WireError) in try reader.readBytes() }
        note = try reader.readOptional { (reader: inout WireReader) throws(WireError) in try reader.read(String.self) }
    }

    func encode(to writer: inout WireWriter) {
        writer.write(name)
        writer.write(ids)
        writer.write(tags) { writer, tag in writer.write(tag) }
        writer.write(blob) { writer, blob in writer.write(bytes: blob) }
        writer.write(note) { writer, note in writer.write(note) }
    }
}

/// Nested messages, alone and in arrays.
struct Nested: WireMessage, Equatable {
    var hello: WireHello
    var errors: [WireErrorPayload]
    var goAway: WireGoAway?

    init(from reader: inout WireReader) throws(WireError) {
        hello = try reader.read(WireHello.self)
        errors = try reader.read([WireErrorPayload].self)
        goAway = try reader.readOptional { (reader: inout WireReader) throws(WireError) in
            try reader.read(WireGoAway.self)
        }
    }

    func encode(to writer: inout WireWriter) {
        writer.write(hello)
        writer.write(errors)
        writer.write(goAway) { writer, goAway in writer.write(goAway) }
    }
}

/// A recursive message: every level costs at least five bytes, so the depth is bounded by the input.
struct Tree: WireMessage, Equatable {
    var value: UInt8
    var children: [Tree]

    init(from reader: inout WireReader) throws(WireError) {
        value = try reader.read()
        children = try reader.read([Tree].self)
    }

    func encode(to writer: inout WireWriter) {
        writer.write(value)
        writer.write(children)
    }
}
