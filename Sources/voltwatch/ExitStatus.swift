/// Exit statuses from sysexits.h, so scripts and systemd can tell failures apart.
enum ExitStatus {
    /// Some input lines did not fit their file's format (EX_DATAERR).
    static let dataError: Int32 = 65
    /// An input file could not be opened (EX_NOINPUT).
    static let noInput: Int32 = 66
    /// An output could not be written (EX_CANTCREAT).
    static let cannotCreate: Int32 = 73
    /// The configuration is invalid (EX_CONFIG).
    static let config: Int32 = 78
}
