/// The agent's version, reported in `hello`, `/api/health`, `/api/model` and `--version`.
public enum VoltwatchVersion {
    public static let string = "0.1.0"
}
