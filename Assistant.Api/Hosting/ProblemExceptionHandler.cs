using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Assistant.Api.Hosting;

/// <summary>
/// Maps exceptions to RFC 7807 ProblemDetails without leaking stack traces: a malformed body or one over the size
/// limit keeps its 4xx status (400, 413); anything else is a 500 with a trace id to find it in the log.
/// </summary>
internal sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = exception switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                (413, "Request body too large", "The request body is larger than Api:MaxRequestBodyBytes; send smaller batches."),
            BadHttpRequestException bad when bad.InnerException is System.Text.Json.JsonException json =>
                (400, "Malformed JSON", $"The request body is not valid JSON for this endpoint: {json.Message}"),
            BadHttpRequestException bad => (bad.StatusCode, "Bad request", bad.Message),
            OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested => (499, "Client closed request", null),
            _ => (500, "Internal error", "The server failed to handle the request; the trace id identifies it in the log."),
        };

        if (status >= 500)
        {
            LogUnhandled(logger, httpContext.Request.Method, httpContext.Request.Path, exception);
        }

        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        }).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error in {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, string method, string path, Exception exception);
}

/// <summary>Answers 413 before reading a body whose declared length is over the limit (also under the test host).</summary>
internal sealed class RequestSizeLimitMiddleware(RequestDelegate next, Microsoft.Extensions.Options.IOptions<ApiOptions> options)
{
    public async Task InvokeAsync(HttpContext context, IProblemDetailsService problems)
    {
        var limit = options.Value.MaxRequestBodyBytes;
        if (context.Request.ContentLength is { } length && length > limit)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Status = 413,
                    Title = "Request body too large",
                    Detail = $"The body is {length} bytes; the limit (Api:MaxRequestBodyBytes) is {limit}. Send smaller batches.",
                },
            }).ConfigureAwait(false);
            return;
        }

        var feature = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false })
        {
            feature.MaxRequestBodySize = limit;
        }

        await next(context).ConfigureAwait(false);
    }
}
