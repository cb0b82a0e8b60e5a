namespace DaemonThreads.Testing;

/// <summary>The two named timeouts of the suite (the runtime's own tests use the same pair).</summary>
public static class TestTimeouts
{
    /// <summary>Used only to show that something has <em>not</em> happened yet; a pass never depends on it being long.</summary>
    public static readonly TimeSpan Expected = TimeSpan.FromMilliseconds(100);

    /// <summary>A ceiling a passing test never reaches; hitting it means the code under test hung.</summary>
    public static readonly TimeSpan Unexpected = TimeSpan.FromSeconds(30);
}
