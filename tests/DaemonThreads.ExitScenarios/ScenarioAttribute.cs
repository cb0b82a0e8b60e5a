namespace DaemonThreads.ExitScenarios;

/// <summary>Marks a static method <c>int M(string[] args)</c> (or <c>void</c>, or <c>Task&lt;int&gt;</c>) as the scenario with this name.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ScenarioAttribute(string name) : Attribute
{
    /// <summary>Gets the scenario's name, the first command-line argument that selects it.</summary>
    public string Name { get; } = name;
}
