using System.ComponentModel.DataAnnotations;

namespace Assistant.Api.Storage;

public enum StorageProvider
{
    /// <summary>One SQLite file under the data directory: the embedded default, no set-up.</summary>
    Sqlite,

    /// <summary>A PostgreSQL database named by <see cref="StorageOptions.ConnectionString"/>.</summary>
    PostgreSql,
}

/// <summary>The "Storage" configuration section.</summary>
public sealed class StorageOptions : IValidatableObject
{
    public const string SectionName = "Storage";

    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>Where the SQLite file (and later model artifacts) live; relative paths are under the current directory.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    [Required]
    public string SqliteFileName { get; set; } = "assistant.db";

    /// <summary>Npgsql connection string, required for PostgreSQL.</summary>
    public string? ConnectionString { get; set; }

    public string SqlitePath => Path.GetFullPath(Path.Combine(DataDirectory, SqliteFileName));

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Provider == StorageProvider.PostgreSql && string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return new ValidationResult(
                "Storage:Provider is PostgreSql but Storage:ConnectionString is empty. Set it (for example the environment variable Storage__ConnectionString=\"Host=...;Username=...;Database=...\").",
                [nameof(ConnectionString)]);
        }
    }
}
