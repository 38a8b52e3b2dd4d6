/// Exit statuses from sysexits.h, so scripts and systemd can tell failures apart.
enum ExitStatus {
    /// Some input lines did not fit their file's format (EX_DATAERR).
    static let dataError: Int32 = 65
    /// An input file could not be opened (EX_NOINPUT).
    static let noInput: Int32 = 66
    /// A service needed (the running agent) could not be reached (EX_UNAVAILABLE).
    static let unavailable: Int32 = 69
    /// An output could not be written (EX_CANTCREAT).
    static let cannotCreate: Int32 = 73
    /// The agent refused the credentials given (EX_NOPERM).
    static let noPermission: Int32 = 77
    /// The configuration is invalid (EX_CONFIG).
    static let config: Int32 = 78
}
