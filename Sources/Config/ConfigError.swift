/// A config problem, naming the file, the JSON path and the bad value (SPEC section 2).
public struct ConfigError: Error, Sendable, Equatable {
    public var file: String
    public var path: String
    public var reason: String
    public var got: String?

    public init(file: String, path: String, reason: String, got: String? = nil) {
        self.file = file
        self.path = path
        self.reason = reason
        self.got = got
    }

    /// `config.json: feeds[3].interval: must be a duration >= 60s, got "5"`
    public var message: String {
        var s = file
        if !path.isEmpty { s += ": " + path }
        s += ": " + reason
        if let got { s += ", got " + got }
        return s
    }
}
