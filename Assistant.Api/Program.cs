using Assistant.Api.Cli;
using Assistant.Api.Endpoints;
using Assistant.Api.Hosting;

var command = CommandLine.Parse(args);
var builder = WebApplication.CreateBuilder(command.ConfigurationArgs);
builder.AddAssistant();
var app = builder.Build();

if (command.Verb == "import")
{
    return await ImportCommand.RunAsync(command, app.Services, Console.Out, app.Lifetime.ApplicationStopping);
}

await app.Services.GetRequiredService<StoreInitializer>().InitializeAsync(app.Lifetime.ApplicationStopping);

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseMiddleware<RequestSizeLimitMiddleware>();
app.MapOpenApi();
app.MapHealthChecks("/health");
app.MapCatalogApi();
app.MapUsersApi();
app.MapEventsApi();
app.MapGet("/", () => TypedResults.Redirect("/openapi/v1.json")).ExcludeFromDescription();

await app.RunAsync();
return 0;

/// <summary>The host; public for WebApplicationFactory in the tests.</summary>
public partial class Program;
