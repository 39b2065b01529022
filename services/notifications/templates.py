"""Message templates per event type in zh-CN and en, chosen by the recipient's locale (zh-CN fallback).

A template is `(title, body)` formatted with the event payload. Datetimes are shown in the event's own
timezone (a booking's space) or else the recipient's, as `YYYY-MM-DD HH:MM`. A type may have a variant
for one audience (`"booking.requested/manager"`) that replaces the type's text for that audience only, and
a variant for one case of the payload (`"booking.cancelled[occurrence]"`, see `variant_of`). Messages name
things as people know them (category labels, grid names, people's names), never by id or key.
A missing template or placeholder raises: a blank message is never sent.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case, func

LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"


TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    # -- accounts --------------------------------------------------------------------------------------
    "account.registered": {
        "zh-CN": ("欢迎加入暖新,{display_name}", "您的账号 {username} 已开通。可在“通知设置”中添加邮箱、企业微信等接收渠道。"),
        "en": ("Welcome to Nuanxin, {display_name}", "Your account {username} is ready. Add e-mail or WeCom "
               "channels under notification settings."),
    },
    "account.updated": {
        "zh-CN": ("账号信息已更新", "{display_name},您的账号资料、角色或群体认定已更新。"),
        "en": ("Your account was updated", "{display_name}, your profile, roles or groups were updated."),
    },
    # -- bookings --------------------------------------------------------------------------------------
    "booking.requested": {
        "zh-CN": ("预订待审批:{space_name}", "您预订的 {space_name}({starts_at} – {ends_at})已提交,等待管理员审批。"),
        "en": ("Booking awaiting approval: {space_name}", "Your booking of {space_name} ({starts_at} – "
               "{ends_at}) was submitted and awaits a manager's approval."),
    },
    "booking.requested/manager": {
        "zh-CN": ("请审批预订:{space_name}", "{space_name} 有一条新的预订申请({starts_at} – {ends_at},"
                  "共 {occurrences} 次),请审批。"),
        "en": ("Please approve a booking: {space_name}", "A new booking of {space_name} ({starts_at} – "
               "{ends_at}, {occurrences} occurrence(s)) needs your approval."),
    },
    "booking.confirmed": {
        "zh-CN": ("预订已确认:{space_name}", "{site_name} {space_name}:{starts_at} – {ends_at},共 {occurrences} 次。"),
        "en": ("Booking confirmed: {space_name}", "{site_name} {space_name}: {starts_at} – {ends_at}, "
               "{occurrences} occurrence(s)."),
    },
    "booking.rejected": {
        "zh-CN": ("预订未获批准:{space_name}", "您预订的 {space_name}({starts_at})未获批准。原因:{reason}"),
        "en": ("Booking rejected: {space_name}", "Your booking of {space_name} ({starts_at}) was rejected. "
               "Reason: {reason}"),
    },
    "booking.cancelled": {
        "zh-CN": ("预订已取消:{space_name}", "{space_name}({starts_at} 起)的整个预订已取消。{reason}"),
        "en": ("Booking cancelled: {space_name}", "The whole booking of {space_name} (from {starts_at}) was "
               "cancelled. {reason}"),
    },
    # One occurrence of a series that goes on: the message names that occurrence, not the series.
    "booking.cancelled[occurrence]": {
        "zh-CN": ("预订中的一次已取消:{space_name}", "{space_name} 系列预订中 {cancelled_starts_at} – "
                  "{cancelled_ends_at} 这一次已取消,其余 {occurrences} 次照常。{reason}"),
        "en": ("One occurrence cancelled: {space_name}", "This occurrence of the series at {space_name}, "
               "{cancelled_starts_at} – {cancelled_ends_at}, was cancelled; the other {occurrences} stay "
               "booked. {reason}"),
    },
    "booking.cancelled[following]": {
        "zh-CN": ("预订自 {cancelled_starts_at} 起取消:{space_name}", "{space_name} 系列预订自 "
                  "{cancelled_starts_at} 起的各次已取消,其余 {occurrences} 次照常。{reason}"),
        "en": ("Booking cancelled from {cancelled_starts_at}: {space_name}", "The occurrences of the series at "
               "{space_name} from {cancelled_starts_at} on were cancelled; the other {occurrences} stay booked. "
               "{reason}"),
    },
    "booking.expired": {
        "zh-CN": ("预订已过期:{space_name}", "{space_name}({starts_at})的预订在开始前未获审批,已自动失效。"),
        "en": ("Booking expired: {space_name}", "The booking of {space_name} ({starts_at}) was not decided "
               "before it started and has lapsed."),
    },
    "booking.released": {
        "zh-CN": ("未签到,场地已释放:{space_name}", "{space_name}({starts_at})未按时签到,该时段已释放给他人。"),
        "en": ("No check-in, slot released: {space_name}", "Nobody checked in to {space_name} ({starts_at}); "
               "the slot is free again."),
    },
    "booking.reminder_due": {
        "zh-CN": ("即将开始:{space_name}", "您预订的 {site_name} {space_name} 将于 {starts_at} 开始,请按时签到。"),
        "en": ("Starting soon: {space_name}", "Your booking of {site_name} {space_name} starts at {starts_at}. "
               "Please check in on time."),
    },
    "waitlist.offered": {
        "zh-CN": ("候补名额已为您保留:{space_name}", "{space_name}({starts_at} – {ends_at})有空位,为您保留至 "
                  "{hold_until},请尽快确认。"),
        "en": ("A waitlisted slot is yours: {space_name}", "{space_name} ({starts_at} – {ends_at}) is free and "
               "held for you until {hold_until}. Please confirm soon."),
    },
    # -- actions (three whistles) ----------------------------------------------------------------------
    "action.reported": {
        "zh-CN": ("新的问题上报:{title}", "{grid_name} 上报了“{title}”({category_label}),请及时处置。{note}"),
        "en": ("New report: {title}", "“{title}” ({category_label}) was reported in {grid_name}. Please handle "
               "it. {note}"),
    },
    "action.reported/reporter": {
        "zh-CN": ("已收到您的上报:{title}", "感谢您的上报,“{title}”已转给 {level_grid_name} 处置,进展会及时告知您。"),
        "en": ("We received your report: {title}", "Thank you. “{title}” went to {level_grid_name}; we will "
               "keep you posted."),
    },
    "action.dispatched": {
        "zh-CN": ("任务进展:{title}", "“{title}”已由 {actor_name} 派单处置。"),
        "en": ("Update: {title}", "{actor_name} dispatched “{title}” to volunteers."),
    },
    "action.dispatched/assignee": {
        "zh-CN": ("请接单:{title}", "{grid_name} 的“{title}”({category_label})派给了您,请尽快接单或婉拒。{note}"),
        "en": ("Please accept: {title}", "“{title}” ({category_label}) in {grid_name} was dispatched to you. "
               "Please accept or decline. {note}"),
    },
    "action.dispatched/released": {
        "zh-CN": ("已改派他人,无需接单:{title}", "“{title}”已由 {actor_name} 改派他人处置,您不必再接单,谢谢!"),
        "en": ("No longer needed: {title}", "{actor_name} dispatched “{title}” to others; you need not accept "
               "it. Thank you!"),
    },
    "action.accepted": {
        "zh-CN": ("已有人接单:{title}", "“{title}”已由 {actor_name} 接单处置。"),
        "en": ("Accepted: {title}", "{actor_name} accepted “{title}”."),
    },
    "action.accepted/released": {
        "zh-CN": ("已由他人接单,无需处理:{title}", "“{title}”已由 {actor_name} 接单,您不必再处理,谢谢!"),
        "en": ("Taken by someone else: {title}", "{actor_name} accepted “{title}”; you need not act on it. "
               "Thank you!"),
    },
    "action.declined": {
        "zh-CN": ("志愿者婉拒:{title}", "{actor_name} 婉拒了“{title}”,请重新派单。{note}"),
        "en": ("Declined: {title}", "{actor_name} declined “{title}”; please dispatch again. {note}"),
    },
    "action.escalated": {
        "zh-CN": ("事项升级:{title}", "“{title}”已从第 {from_level} 级升至第 {to_level} 级,由 {level_grid_name} "
                  "协调处置。原因:{reason}"),
        "en": ("Escalated: {title}", "“{title}” moved from level {from_level} to level {to_level}, now with "
               "{level_grid_name}. Reason: {reason}"),
    },
    "action.escalated/coordinator": {
        "zh-CN": ("请协调处置({level_grid_name}):{title}", "{grid_name} 的“{title}”({category_label})已升级到 "
                  "{level_grid_name},请协调力量处置。原因:{reason}"),
        "en": ("Please coordinate ({level_grid_name}): {title}", "“{title}” ({category_label}) in {grid_name} "
               "was escalated to {level_grid_name}. Please coordinate. Reason: {reason}"),
    },
    # The timer's reason is written for the log ("not accepted within 30 min at level 1"): said in words here.
    "action.escalated[automatic]": {
        "zh-CN": ("事项升级:{title}", "“{title}”未在时限内处置,已自动从第 {from_level} 级升至第 {to_level} 级,"
                  "由 {level_grid_name} 协调处置。"),
        "en": ("Escalated: {title}", "“{title}” ran out of time and moved from level {from_level} to level "
               "{to_level}, now with {level_grid_name}. Reason: {reason}"),
    },
    "action.escalated[automatic]/coordinator": {
        "zh-CN": ("请协调处置({level_grid_name}):{title}", "{grid_name} 的“{title}”({category_label})未在时限内"
                  "处置,已自动升级到 {level_grid_name},请协调力量处置。"),
        "en": ("Please coordinate ({level_grid_name}): {title}", "“{title}” ({category_label}) in {grid_name} "
               "ran out of time and was escalated to {level_grid_name}. Please coordinate. Reason: {reason}"),
    },
    "action.resolved": {
        "zh-CN": ("已处置,请核查:{title}", "“{title}”已由 {actor_name} 处置完毕:{note}。请核查确认。"),
        "en": ("Handled, please verify: {title}", "{actor_name} handled “{title}”: {note}. Please verify."),
    },
    "action.resolved/earlier_coordinator": {
        "zh-CN": ("已处置:{title}", "升级到 {level_grid_name} 的“{title}”已由 {actor_name} 处置完毕:{note}。"),
        "en": ("Handled: {title}", "“{title}”, escalated to {level_grid_name}, was handled by {actor_name}: "
               "{note}."),
    },
    "action.closed": {
        "zh-CN": ("已结案:{title}", "“{title}”已核查结案。感谢每一位参与的人!"),
        "en": ("Closed: {title}", "“{title}” was verified and closed. Thank you, everyone involved!"),
    },
    "action.reopened": {
        "zh-CN": ("事项重新打开:{title}", "“{title}”的处置结果有异议,已重新打开。{note}"),
        "en": ("Reopened: {title}", "The outcome of “{title}” was disputed; it is open again. {note}"),
    },
    "action.cancelled": {
        "zh-CN": ("已取消:{title}", "“{title}”已由 {actor_name} 取消。{note}"),
        "en": ("Cancelled: {title}", "{actor_name} cancelled “{title}”. {note}"),
    },
    "action.cancelled/released": {
        "zh-CN": ("已取消,无需处理:{title}", "“{title}”已由 {actor_name} 取消,您不必再处理,谢谢!{note}"),
        "en": ("Cancelled, no need to act: {title}", "{actor_name} cancelled “{title}”; you need not act on it. "
               "Thank you! {note}"),
    },
    "action.merged": {
        "zh-CN": ("已合并:{title}", "“{title}”与“{survivor_title}”(#{survivor_id})是同一件事,已合并到该事项"
                  "一并处置,后续进展会在那里告知。{note}"),
        "en": ("Merged: {title}", "“{title}” is the same case as “{survivor_title}” (#{survivor_id}) and was "
               "merged into it; you will hear of its progress there. {note}"),
    },
    "action.merged/released": {
        "zh-CN": ("已合并,无需处理:{title}", "“{title}”已合并到“{survivor_title}”(#{survivor_id})一并处置,"
                  "您不必再处理,谢谢!"),
        "en": ("Merged, no need to act: {title}", "“{title}” was merged into “{survivor_title}” "
               "(#{survivor_id}); you need not act on it. Thank you!"),
    },
    "action.deadline_near": {
        "zh-CN": ("时限将至:{title}", "“{title}”将于 {deadline_at} 到期,请抓紧处置。"),
        "en": ("Deadline near: {title}", "“{title}” is due at {deadline_at}. Please act soon."),
    },
    # One digest per mass action and period for whoever ordered it (not a message per check).
    "action.mass_progress": {
        "zh-CN": ("检查进度:{title}", "“{title}”共 {total} 项检查:已完成 {done} 项,处置中 {working} 项,"
                  "待接单 {waiting} 项。"),
        "en": ("Progress: {title}", "“{title}” has {total} checks: {done} done, {working} in hand, {waiting} "
               "waiting for a volunteer."),
    },
    # -- teams -----------------------------------------------------------------------------------------
    "team.member_invited": {
        "zh-CN": ("邀请您加入{team_name}", "{invited_by_name} 邀请您加入{team_name}。愿意的话,请在队伍页面点“加入”。"),
        "en": ("You are invited to {team_name}", "{invited_by_name} invited you to join {team_name}. To accept, "
               "join the team on its page."),
    },
    "team.member_joined": {
        "zh-CN": ("新成员加入{team_name}", "{team_name}迎来了一位新成员。"),
        "en": ("A new member joined {team_name}", "{team_name} has a new member."),
    },
    "team.member_joined/member": {
        "zh-CN": ("欢迎加入{team_name}", "您已加入{team_name},期待与您一起服务社区。"),
        "en": ("Welcome to {team_name}", "You joined {team_name}. We look forward to serving the "
               "neighbourhood with you."),
    },
    # -- charity items and micro-wishes ----------------------------------------------------------------
    "pledge.published": {
        "zh-CN": ("新的公益项目:{title}", "{merchant_name} 提供“{title}”,符合条件即可领取。"),
        "en": ("New charity item: {title}", "{merchant_name} offers “{title}”; claim it if you are eligible."),
    },
    "pledge.published/merchant": {
        "zh-CN": ("公益项目已上线:{title}", "您的“{title}”已公开,感谢您的善意。"),
        "en": ("Your item is live: {title}", "“{title}” is public now. Thank you for your kindness."),
    },
    "pledge.claimed": {
        "zh-CN": ("领取成功:{title}", "您已领取 {merchant_name} 的“{title}”,请到店出示领取码。有效期至 {expires_at}。"),
        "en": ("Claimed: {title}", "You claimed “{title}” from {merchant_name}. Show your code at the shop "
               "before {expires_at}."),
    },
    "pledge.claimed/merchant": {
        "zh-CN": ("有人领取了“{title}”", "您的“{title}”刚被领取,对方到店时请核销领取码。"),
        "en": ("“{title}” was claimed", "Someone claimed “{title}”; please redeem the code when they come."),
    },
    "pledge.redeemed": {
        "zh-CN": ("已核销:{title}", "{merchant_name} 已为您核销“{title}”,祝您愉快!"),
        "en": ("Redeemed: {title}", "{merchant_name} redeemed “{title}” for you. Enjoy!"),
    },
    "pledge.exhausted": {
        "zh-CN": ("已领完:{title}", "您的“{title}”今日份额已全部领完。"),
        "en": ("All claimed: {title}", "Every unit of “{title}” has been claimed."),
    },
    "claim.expired": {
        "zh-CN": ("领取已过期:{title}", "您领取的 {merchant_name}“{title}”未在有效期内核销,已失效。"),
        "en": ("Claim expired: {title}", "Your claim of “{title}” from {merchant_name} was not redeemed in "
               "time and has lapsed."),
    },
    "wish.submitted": {
        "zh-CN": ("微心愿待审核:{title}", "{grid_name} 有一个微心愿“{title}”等待您审核。"),
        "en": ("A micro-wish awaits vetting: {title}", "The micro-wish “{title}” in {grid_name} waits for you "
               "to vet it."),
    },
    "merchant.registered": {
        "zh-CN": ("商户待审核:{title}", "{grid_name} 的商户“{title}”申请入驻,等待您审核。"),
        "en": ("A shop awaits approval: {title}", "The shop “{title}” in {grid_name} registered and waits for "
               "your approval."),
    },
    "wish.published": {
        "zh-CN": ("新的微心愿:{title}", "有一个微心愿“{title}”等待认领,欢迎帮助实现。"),
        "en": ("A new micro-wish: {title}", "The micro-wish “{title}” is waiting for someone to adopt it."),
    },
    "wish.published/owner": {
        "zh-CN": ("您的微心愿已发布:{title}", "“{title}”已通过审核并公开,有人认领时会通知您。"),
        "en": ("Your wish is published: {title}", "“{title}” was vetted and published; we will tell you "
               "when someone adopts it."),
    },
    "wish.adopted": {
        "zh-CN": ("微心愿被认领:{title}", "您的微心愿“{title}”已被认领,请留意对方联系。"),
        "en": ("Your wish was adopted: {title}", "Someone adopted your micro-wish “{title}”."),
    },
    "wish.fulfilled": {
        "zh-CN": ("微心愿已实现:{title}", "您认领的微心愿“{title}”已确认收到,谢谢您!"),
        "en": ("Wish fulfilled: {title}", "The owner confirmed receipt of “{title}”. Thank you!"),
    },
    # -- activities (classes, walks, contests, parties) -------------------------------------------------
    "activity.signup_confirmed": {
        "zh-CN": ("报名成功:{title_zh}", "您已报名“{title_zh}”,共 {places} 个名额。首次活动时间:{first_starts_at}。"
                  "如不能参加,请在截止前取消,把名额留给他人。"),
        "en": ("You're signed up: {title_en}", "You have {places} place(s) at “{title_en}”. The first session is "
               "at {first_starts_at}. If you cannot come, please cancel before the deadline so someone else can."),
    },
    "activity.waitlist_offered": {
        "zh-CN": ("候补转正:{title_zh}", "“{title_zh}”有名额空出,已为您保留至 {hold_until},请在此之前确认,"
                  "逾期将顺延给下一位。"),
        "en": ("A place is free for you: {title_en}", "A place at “{title_en}” is held for you until "
               "{hold_until}. Please confirm before then, or it goes to the next person waiting."),
    },
    "activity.session_reminder": {
        "zh-CN": ("活动提醒:{title_zh}", "您报名的“{title_zh}”将于 {starts_at} 开始,地点:{place}。请准时到场签到。"),
        "en": ("Reminder: {title_en}", "“{title_en}”, which you signed up for, starts at {starts_at} at {place}. "
               "Please arrive on time to check in."),
    },
    "activity.session_changed": {
        "zh-CN": ("活动安排有变:{title_zh}", "“{title_zh}”的一次活动({old_starts_at})有变动,现为 {starts_at} – "
                  "{ends_at}。{reason}"),
        "en": ("Session changed: {title_en}", "A session of “{title_en}” ({old_starts_at}) changed; it is now "
               "{starts_at} – {ends_at}. {reason}"),
    },
    "activity.session_changed[moved]": {
        "zh-CN": ("活动改期:{title_zh}", "“{title_zh}”原定 {old_starts_at} 的活动改为 {starts_at} – {ends_at}。{reason}"),
        "en": ("Session moved: {title_en}", "The session of “{title_en}” planned for {old_starts_at} now takes "
               "place {starts_at} – {ends_at}. {reason}"),
    },
    "activity.session_changed[cancelled]": {
        "zh-CN": ("活动取消一次:{title_zh}", "“{title_zh}”{starts_at} – {ends_at} 这一次活动取消了,其余场次照常。"
                  "{reason}"),
        "en": ("Session cancelled: {title_en}", "The session of “{title_en}” on {starts_at} – {ends_at} is "
               "cancelled; the other sessions go ahead. {reason}"),
    },
    "activity.cancelled": {
        "zh-CN": ("活动已取消:{title_zh}", "很抱歉,您报名的“{title_zh}”已取消,全部场次不再举行。{reason}"),
        "en": ("Activity cancelled: {title_en}", "Sorry: “{title_en}”, which you signed up for, is cancelled with "
               "all its sessions. {reason}"),
    },
    # To the organisers: bookings no longer holds a session's room (`reason` picks the text).
    "activity.venue_lost": {
        "zh-CN": ("活动场地已失去:{title_zh}", "“{title_zh}”{starts_at} 起共 {sessions} 场活动的场地({place})已不再"
                  "为活动保留,请另订场地或调整时间,并告知报名者。{detail}"),
        "en": ("Room lost: {title_en}", "The room ({place}) of {sessions} session(s) of “{title_en}” from "
               "{starts_at} is no longer held for it. Please book another room or change the time, and tell "
               "those signed up. {detail}"),
    },
    "activity.venue_lost[rejected]": {
        "zh-CN": ("活动场地未获批准:{title_zh}", "“{title_zh}”{starts_at} 起共 {sessions} 场活动预订的场地({place})"
                  "未获管理员批准,请另订场地或调整时间。{detail}"),
        "en": ("Room not approved: {title_en}", "The room ({place}) booked for {sessions} session(s) of "
               "“{title_en}” from {starts_at} was not approved by its manager. Please book another room or "
               "change the time. {detail}"),
    },
    "activity.venue_lost[expired]": {
        "zh-CN": ("活动场地审批已过期:{title_zh}", "“{title_zh}”{starts_at} 起共 {sessions} 场活动预订的场地({place})"
                  "在开始前未获审批,预订已失效,请另订场地。"),
        "en": ("Room approval expired: {title_en}", "The room ({place}) booked for {sessions} session(s) of "
               "“{title_en}” from {starts_at} was not approved before it began; the booking lapsed. Please book "
               "another room."),
    },
    "activity.venue_lost[cancelled]": {
        "zh-CN": ("活动场地预订被取消:{title_zh}", "“{title_zh}”{starts_at} 起共 {sessions} 场活动的场地({place})"
                  "预订已在场地预订中被取消,请另订场地或调整时间,并告知报名者。{detail}"),
        "en": ("Room booking cancelled: {title_en}", "The booking of the room ({place}) for {sessions} "
               "session(s) of “{title_en}” from {starts_at} was cancelled in bookings. Please book another room "
               "or change the time, and tell those signed up. {detail}"),
    },
    "activity.venue_lost[released]": {
        "zh-CN": ("活动场地已释放:{title_zh}", "“{title_zh}”{starts_at} 的场地({place})因未按时签到已被释放,"
                  "可供他人预订。"),
        "en": ("Room released: {title_en}", "The room ({place}) of “{title_en}” at {starts_at} was released: "
               "nobody checked in to it in time, and others may book it now."),
    },
    "activity.hours_credited": {
        "zh-CN": ("已记录 {hours} 小时志愿时长:{title_zh}", "感谢您协助“{title_zh}”({ended_at} 结束),{hours} 小时"
                  "志愿服务时长已记入您的志愿者档案。"),
        "en": ("{hours_en} credited for {title_en}", "Thank you for helping run “{title_en}” (ended {ended_at}): "
               "your volunteer profile now counts {hours_en} more of volunteering."),
    },
    # -- broadcasts ------------------------------------------------------------------------------------
    "broadcast": {
        "zh-CN": ("{title}", "{body}"),
        "en": ("{title_en}", "{body_en}"),
    },
}

SEVERITY_PREFIX = {"zh-CN": {"critical": "【紧急】", "warning": "【提醒】"}, "en": {"critical": "[URGENT] ",
                                                                           "warning": "[Notice] "}}


def pick_locale(locale: str | None) -> str:
    """The recipient's locale if we speak it (`en-US` → `en`), else zh-CN."""
    if locale in LOCALES:
        return locale
    if locale and locale.split("-")[0].lower() == "en":
        return "en"
    return DEFAULT_LOCALE


def locale_in_sql(locale):
    """`pick_locale` as a SQL expression over a locale column: the locale if we speak it, `en` for any
    English one, else zh-CN."""
    lowered = func.lower(locale)
    spoken = [(locale == name, name) for name in LOCALES]
    return case(*spoken, ((lowered == "en") | lowered.like("en-%"), "en"), else_=DEFAULT_LOCALE)


def _show(value, zone: ZoneInfo):
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and value[10:11] == "T":
        try:
            return datetime.fromisoformat(value).astimezone(zone).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    if value is None:
        return "—"
    return value


# Shown when a name is missing from an older event (producers now always send it).
FALLBACKS = {
    "zh-CN": {"actor_name": "工作人员", "grid_name": "未划定网格", "invited_by_name": "队伍负责人",
              "place": "见活动详情"},
    "en": {"actor_name": "a volunteer", "grid_name": "no grid yet", "invited_by_name": "The team",
           "place": "the place given in the activity"},
}
# An empty name falls back to other fields of the payload, the first one present (an activity without an
# English title shows its Chinese one).
FALLBACK_FIELDS = {"category_label": ("category",), "level_grid_name": ("grid_name",),
                   "title_en": ("title", "title_zh"), "body_en": ("body",)}


def _hours(minutes) -> str:
    """Minutes as hours for people: 90 → "1.5", 120 → "2", 20 → "0.33"."""
    return f"{int(minutes) / 60:.2f}".rstrip("0").rstrip(".")


def variant_of(type_name: str, payload: dict) -> str | None:
    """The case of the payload that has its own text, if any."""
    if type_name == "booking.cancelled" and payload.get("scope") in ("occurrence", "following") \
            and payload.get("occurrences"):
        # Some of the series goes on: name the occurrence(s) cancelled, not the booking's first one.
        return payload["scope"]
    if type_name == "action.escalated" and payload.get("automatic"):
        return "automatic"
    if type_name == "activity.session_changed" and payload.get("change") in ("moved", "cancelled"):
        return payload["change"]
    if type_name == "activity.venue_lost" and payload.get("reason") in ("rejected", "expired", "cancelled",
                                                                       "released"):
        return payload["reason"]
    return None


def template_for(type_name: str, locale: str, audience: str | None = None,
                 variant: str | None = None) -> tuple[str, str]:
    """The (title, body) pattern; KeyError when the type has no template (a bug, never a blank message)."""
    locale = pick_locale(locale)
    names = [f"{type_name}[{variant}]"] if variant else []
    names.append(type_name)
    for name in names:
        if audience and f"{name}/{audience}" in TEMPLATES:
            return TEMPLATES[f"{name}/{audience}"][locale]
    for name in names:
        if name in TEMPLATES:
            return TEMPLATES[name][locale]
    raise KeyError(type_name)


def render(type_name: str, payload: dict, locale: str | None = None, *, audience: str | None = None,
           timezone: str | None = None, severity: str = "info") -> tuple[str, str]:
    """Title and body of `type_name` for one recipient; raises KeyError on a missing template or field."""
    locale = pick_locale(locale)
    try:
        zone = ZoneInfo(payload.get("timezone") or timezone or "Asia/Shanghai")
    except (KeyError, ValueError):
        zone = ZoneInfo("Asia/Shanghai")
    values = {key: _show(value, zone) for key, value in payload.items()}
    if isinstance(payload.get("minutes"), int) and "hours" not in values:
        values["hours"] = _hours(payload["minutes"])
        values["hours_en"] = values["hours"] + (" hour" if values["hours"] == "1" else " hours")
    for key, others in FALLBACK_FIELDS.items():
        if not values.get(key):
            found = next((other for other in others if values.get(other)), None)
            if found is not None:
                values[key] = values[found]
    for key, text in FALLBACKS[locale].items():
        if key in values and not values[key]:
            values[key] = text
    title, body = template_for(type_name, locale, audience, variant_of(type_name, payload))
    title = SEVERITY_PREFIX[locale].get(severity, "") + title.format_map(values)
    return title[:300].strip(), body.format_map(values).strip()
