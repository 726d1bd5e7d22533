using Ranking.Domain;

namespace Ranking.Crm;

/// <summary>
/// The learned <see cref="ContactPolicy"/> as the campaign planner's <see cref="IContactRules"/>: a user is checked at
/// the time she would be sent to (her best slot after the campaign's start), against the messages she was sent in
/// the 7 days before it.
/// </summary>
public sealed class ContactPolicyRules : IContactRules
{
    private readonly ContactPolicy _policy;
    private readonly Dictionary<string, List<DateTimeOffset>> _sentTo = new(StringComparer.Ordinal);

    /// <param name="policy">The learned policy.</param>
    /// <param name="pastSends">Every stored send; holdout rows (nothing delivered) are not contacts.</param>
    public ContactPolicyRules(ContactPolicy policy, IEnumerable<CrmSend> pastSends)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(pastSends);
        _policy = policy;
        foreach (var send in pastSends)
        {
            if (!send.IsTreatment)
            {
                continue;
            }

            if (!_sentTo.TryGetValue(send.UserId, out var times))
            {
                _sentTo[send.UserId] = times = [];
            }

            times.Add(send.SentAt);
        }
    }

    public ContactPolicy Policy => _policy;

    public bool CanContact(User user, string channel, DateTimeOffset at, out string reason)
    {
        ArgumentNullException.ThrowIfNull(user);
        var sendAt = _policy.BestSendTime(user, at);
        var recent = _sentTo.TryGetValue(user.Id, out var times) ? times.Count(t => t > sendAt.AddDays(-7) && t <= sendAt) : 0;
        var decision = _policy.CanContact(user, sendAt, recent, channel);
        reason = decision.Message;
        return decision.Allowed;
    }

    public DateTimeOffset SendTime(string userId, DateTimeOffset notBefore) => _policy.BestSendTime(userId, notBefore);
}
