using Assistant.Api.Cli;
using Assistant.Api.Endpoints;
using Assistant.Api.Hosting;

var command = CommandLine.Parse(args);
// Settings files ship beside the binary; relative paths in settings (Storage:DataDirectory) stay relative to the
// directory the service was started from, which `dotnet run` keeps (RunWorkingDirectory in the project file).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = command.ConfigurationArgs, ContentRootPath = AppContext.BaseDirectory });
builder.AddAssistant();
var app = builder.Build();

if (command.Verb == "import")
{
    return await ImportCommand.RunAsync(command, app.Services, Console.Out, app.Lifetime.ApplicationStopping);
}

if (command.Verb == "eval")
{
    return await EvalCommand.RunAsync(command, app.Services, Console.Out, app.Lifetime.ApplicationStopping);
}

await app.Services.GetRequiredService<StoreInitializer>().InitializeAsync(app.Lifetime.ApplicationStopping);

if (command.Verb == "train")
{
    return await TrainCommand.RunAsync(command, app.Services, Console.Out, app.Lifetime.ApplicationStopping);
}

// The language model before training: an unusable Llm section (a missing model file) stops the host now, with a message
// naming the key, rather than after minutes of training; a local model's weights load here, not on the first chat.
app.Services.GetRequiredService<Microsoft.Extensions.AI.IChatClient>();

await app.Services.GetRequiredService<ModelService>().InitializeAsync(app.Lifetime.ApplicationStopping);

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseMiddleware<RequestSizeLimitMiddleware>();
app.MapOpenApi();
app.MapHealthChecks("/health");
app.MapCatalogApi();
app.MapUsersApi();
app.MapEventsApi();
app.MapImportApi();
app.MapExperimentsApi();
app.MapCrmApi();
app.MapRecommendationsApi();
app.MapChatApi();
app.MapAdminApi();
app.MapGet("/", () => TypedResults.Redirect("/openapi/v1.json")).ExcludeFromDescription();

await app.RunAsync();
return 0;

/// <summary>The host; public for WebApplicationFactory in the tests.</summary>
public partial class Program;
