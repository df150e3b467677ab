import NIOCore

/// A request body that must be a JSON object, with typed field access that turns each kind of misuse into the API's
/// error: not JSON or not an object is 400, a field of the wrong type (`null` included) is 400, a missing required
/// field is 422 `invalid_<field>`.
///
/// Only strings are ever read from a body; other JSON values are parsed just far enough to know their type (and to
/// know that they are valid: ``StrictJSONParser`` accepts RFC 8259 and nothing else).
struct JSONObjectBody: Sendable {
    /// A JSON value, reduced to what the API needs: the text of strings and the kind of everything else.
    enum Value: Sendable, Hashable {
        case string(String)
        case null
        case bool
        case number
        case array
        case object([String: Value])

        /// How a message names this kind of value.
        var kind: String {
            switch self {
            case .string: "a string"
            case .null: "null"
            case .bool: "a boolean"
            case .number: "a number"
            case .array: "an array"
            case .object: "an object"
            }
        }
    }

    let fields: [String: Value]

    /// Parses `body`.
    ///
    /// - Throws: ``APIError`` 400 `bad_request` when the body is not RFC 8259 JSON (UTF-8) or not a JSON object.
    init(_ body: ByteBuffer) throws(APIError) {
        let value: Value
        do {
            value = try StrictJSONParser.parse(body.readableBytesView)
        } catch {
            throw .badRequest("the body must be a JSON object (RFC 8259: \(error.message) at byte \(error.offset))")
        }
        guard case .object(let fields) = value else {
            throw .badRequest("the body must be a JSON object, not \(value.kind)")
        }
        self.fields = fields
    }

    /// A field that must be present and a string.
    ///
    /// - Throws: ``APIError`` 422 `invalid_<field>` when it is missing, 400 when it is not a string (`null` included).
    func requiredString(_ field: String) throws(APIError) -> String {
        guard let value = fields[field] else {
            throw .missingField(field)
        }
        guard case .string(let string) = value else {
            throw .badRequest("\(field) must be a string, not \(value.kind)")
        }
        return string
    }

    /// Fields that must all be present and strings. Every type is checked (400) before any absence (422), so a body
    /// whose fault is a wrong type is 400 whichever field comes first.
    func requiredStrings(_ names: String...) throws(APIError) -> [String] {
        for name in names {
            if let value = fields[name], case .string = value {
            } else if let value = fields[name] {
                throw .badRequest("\(name) must be a string, not \(value.kind)")
            }
        }
        var strings: [String] = []
        for name in names {
            strings.append(try requiredString(name))
        }
        return strings
    }

    /// A field that may be missing or `null`, and is otherwise a string.
    ///
    /// - Throws: ``APIError`` 400 when it is present and neither a string nor `null`.
    func optionalString(_ field: String) throws(APIError) -> String? {
        switch fields[field] {
        case nil, .null?:
            return nil
        case .string(let string)?:
            return string
        case let value?:
            throw .badRequest("\(field) must be a string or null, not \(value.kind)")
        }
    }
}
