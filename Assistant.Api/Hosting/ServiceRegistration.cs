using Assistant.Api.Storage;
using Assistant.Plugins.Llm;
using Assistant.Plugins.Prompts;
using Assistant.Plugins.Shopping;
using Assistant.Api.Storage.Postgres;
using Assistant.Api.Storage.Sqlite;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using Ranking.Data;
using Ranking.Domain;
using Ranking.Experiments;
using Ranking.Import;

namespace Assistant.Api.Hosting;

public static class ServiceRegistration
{
    /// <summary>Options, the store chosen by configuration, validation, import, health, OpenAPI and ProblemDetails.</summary>
    public static WebApplicationBuilder AddAssistant(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DemoOptions>().BindConfiguration(DemoOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EventTypeOptions>().BindConfiguration(EventTypeOptions.SectionName);

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp =>
        {
            var weights = sp.GetRequiredService<IOptions<EventTypeOptions>>().Value.Weights;
            return weights.Count == 0 ? EventTypeRegistry.Default : new EventTypeRegistry(weights);
        });
        services.AddSingleton(sp => new RecordValidator(sp.GetRequiredService<EventTypeRegistry>(), sp.GetRequiredService<TimeProvider>()));

        services.AddSingleton<IMarketplaceStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return options.Provider switch
            {
                StorageProvider.PostgreSql => new PostgresMarketplaceStore(sp.GetRequiredService<NpgsqlDataSource>()),
                _ => new SqliteMarketplaceStore(options.SqlitePath),
            };
        });
        services.AddSingleton(sp => NpgsqlDataSource.Create(sp.GetRequiredService<IOptions<StorageOptions>>().Value.ConnectionString
            ?? throw new InvalidOperationException("Storage:ConnectionString is not set.")));
        services.AddSingleton<ICatalogStore>(sp => sp.GetRequiredService<IMarketplaceStore>());
        services.AddSingleton<IUserStore>(sp => sp.GetRequiredService<IMarketplaceStore>());
        services.AddSingleton<IEventStore>(sp => sp.GetRequiredService<IMarketplaceStore>());
        services.AddSingleton<ICrmStore>(sp => sp.GetRequiredService<IMarketplaceStore>());
        services.AddSingleton<IExperimentStore>(sp => sp.GetRequiredService<IMarketplaceStore>());
        services.AddSingleton(sp => new Importer(sp.GetRequiredService<IMarketplaceStore>(), sp.GetRequiredService<RecordValidator>()));
        services.AddSingleton<StoreInitializer>();
        services.AddOptions<ExperimentOptions>().BindConfiguration(ExperimentOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<ExperimentOptions>>().Value;
            return new ExperimentAssigner(o.HoldoutShare, o.HoldoutSalt);
        });
        services.AddSingleton<ExperimentService>();
        services.AddOptions<ServingOptions>().BindConfiguration(ServingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ModelService>();
        services.AddSingleton<Ranking.Crm.IRecommenderSource>(sp => sp.GetRequiredService<ModelService>());
        services.AddSingleton<Assistant.Plugins.Shopping.IServingContext>(sp => sp.GetRequiredService<ModelService>());
        services.AddSingleton<Ranking.Crm.CampaignService>();
        builder.AddShoppingChat();

        services.AddProblemDetails();
        // Binding failures (malformed JSON, a string where a number belongs) reach ProblemExceptionHandler, which says what was wrong.
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddOpenApi();
        services.AddHealthChecks().AddCheck<StoreHealthCheck>("store");
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
            o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase));
        });

        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var api = context.Configuration.GetSection(ApiOptions.SectionName).Get<ApiOptions>() ?? new ApiOptions();
            kestrel.Limits.MaxRequestBodySize = api.MaxRequestBodyBytes;
        });
        return builder;
    }

    /// <summary>
    /// The language model (<see cref="LlmOptions"/>, checked at start-up so that a missing model file stops the host with
    /// a message naming the key), the prompt templates and the shopping chat.
    /// </summary>
    public static WebApplicationBuilder AddShoppingChat(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<LlmOptions>().BindConfiguration(LlmOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<LlmOptions>, LlmOptionsValidator>();
        services.AddOptions<ChatServiceOptions>().BindConfiguration(ChatServiceOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        // One client for the process: a local model's weights are loaded once, here, and shared by every request.
        services.AddSingleton<IChatClient>(sp => ChatClientFactory.Create(sp.GetRequiredService<IOptions<LlmOptions>>().Value, sp.GetRequiredService<ILoggerFactory>()));
        var contentRoot = builder.Environment.ContentRootPath;
        services.AddSingleton(sp =>
        {
            // Prompts:Directory wins; else prompts/ beside the binaries (copied there by the build) or above them (a checkout).
            var configured = sp.GetRequiredService<IConfiguration>()["Prompts:Directory"];
            var directory = !string.IsNullOrWhiteSpace(configured) ? configured
                : PromptLibrary.Locate(contentRoot) ?? PromptLibrary.Locate()
                ?? throw new InvalidOperationException($"No prompts folder was found beside or above {contentRoot}; set Prompts:Directory.");
            return new PromptLibrary(directory);
        });
        services.AddSingleton(sp =>
        {
            return new ChatService(
                sp.GetRequiredService<IChatClient>(), sp.GetRequiredService<IServingContext>(), sp.GetRequiredService<IEventStore>(),
                sp.GetRequiredService<PromptLibrary>(), sp.GetRequiredService<IOptions<ChatServiceOptions>>().Value, sp.GetRequiredService<ILoggerFactory>(),
                sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton<LlmSurfaces>();
        return builder;
    }
}

/// <summary>Runs <see cref="LlmOptions.Validate"/>, whose messages name the configuration keys (Llm:ModelPath, ...).</summary>
internal sealed class LlmOptionsValidator : IValidateOptions<LlmOptions>
{
    public ValidateOptionsResult Validate(string? name, LlmOptions options)
    {
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Healthy when the store answers a count.</summary>
internal sealed class StoreHealthCheck(IMarketplaceStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var items = await store.CountItemsAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"{store.Kind}: {items} items");
        }
#pragma warning disable CA1031 // a health check reports any failure of the store as unhealthy
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return HealthCheckResult.Unhealthy($"{store.Kind} is not reachable", ex);
        }
    }
}
