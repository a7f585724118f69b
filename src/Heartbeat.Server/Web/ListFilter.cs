using Heartbeat.Server.Hosts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Heartbeat.Server.Web;

// The list's filters and page as the page's address gives them: ?state=, ?q=, ?group= and ?cursor= (the API's nextCursor).
internal sealed record ListFilter(string? StateName, string? Search, string? Group, string? CursorText)
{
    public HostState? State { get; } = ApiNames.ParseState(StateName is "" ? null : StateName);

    public HostCursor? Cursor { get; } = HostCursor.TryParse(CursorText ?? string.Empty, out var cursor) ? cursor : null;

    public IReadOnlyCollection<string>? Groups => string.IsNullOrEmpty(Group) ? null : [Group];

    // What is wrong with the address, or null.
    public ProblemHttpResult? Problem() =>
        !string.IsNullOrEmpty(StateName) && State is null ? Bad($"'state' must be one of {string.Join(", ", HostIndex.Order.Select(ApiNames.Of))}.")
        : !string.IsNullOrEmpty(CursorText) && Cursor is null ? Bad("'cursor' must be a nextCursor from an earlier page, as it was given.")
        : null;

    // This list with another page (null: the first).
    public string Link(string? cursor, string path = "/") =>
        PageHtml.ListLink(path, [("q", Search), ("state", StateName), ("group", Group), ("cursor", cursor)]);

    private static ProblemHttpResult Bad(string detail) =>
        TypedResults.Problem(title: "Invalid query", detail: detail, statusCode: StatusCodes.Status400BadRequest);
}
