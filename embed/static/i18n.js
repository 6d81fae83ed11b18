// English and Simplified Chinese, from the browser's language.

export const lang = /^zh\b/i.test((navigator.languages && navigator.languages[0]) || navigator.language || "") ? "zh" : "en";
export const locale = lang === "zh" ? "zh-CN" : undefined;
const STR = {
  // Keys are the English text; en lists only the strings that differ
  // from their key (and the error codes), as the server's i18n.go does.
  en: {
    "{n} new messages": "{n} new messages ↓", "1 new message": "1 new message ↓",
    "{n} new messages since {time}": "↑ {n} new messages since {time}", "1 new message since {time}": "↑ 1 new message since {time}",
    "Waiting for connection": "Will send when connected",
    "Beginning of #{room}": "This is the beginning of #{room}.",
    "invalid": "That message could not be sent.", "too_long": "Messages have at most 2000 characters.",
    "rate_limited": "You are sending too fast; wait a moment.", "unavailable": "The server could not save that; try again.",
    "not_found": "That message is deleted already.", "forbidden": "You can edit or delete only messages you sent since you logged in.",
    "too_large": "That picture is too large for this server.", "unsupported": "Send a PNG, JPEG, GIF or WebP picture.",
    "storage_full": "The server has no room for more pictures.",
  },
  zh: {
    "Picture": "图片", "Picture from {user}": "{user} 发送的图片", "Send a picture": "发送图片", "Uploading…": "上传中…", "Waiting to upload…": "等待上传…", "Remove": "移除",
    "That picture is not there any more; send it again.": "这张图片已不在服务器上，请重新发送。",
    "too_large": "这张图片超出了服务器的大小限制。", "unsupported": "请发送 PNG、JPEG、GIF 或 WebP 图片。",
    "storage_full": "服务器已没有空间存放更多图片。",
    "{n} new": "{n} 条新消息", "1 new message in #{room}": "#{room} 有 1 条新消息", "{n} new messages in #{room}": "#{room} 有 {n} 条新消息",
    "New messages in other rooms: {rooms}": "其他房间的新消息：{rooms}",
    "Go to room": "前往房间", "Room": "房间", "Go": "前往", "Log out": "退出", "Signed in as": "当前昵称：", "Online": "在线", "Mention {name}": "提及 {name}",
    "Message": "消息", "Message #{room}": "发送到 #{room}", "Send": "发送",
    "{n} online": "{n} 人在线", "Connected": "已连接", "Connecting…": "连接中…",
    "Reconnecting in {n} s…": "{n} 秒后重新连接…", "Offline": "离线",
    "Too many connections from your network; reconnecting in {n} s…": "你的网络连接过多，{n} 秒后重新连接…",
    "Too many new rooms opened from your network; reconnecting in {n} s…": "你的网络新开的房间过多，{n} 秒后重新连接…",
    "Server unavailable; reconnecting in {n} s…": "服务器暂不可用，{n} 秒后重新连接…",
    "The server does not accept connections from this page's address; reconnecting in {n} s…": "服务器不接受来自此页面地址的连接，{n} 秒后重新连接…",
    "{n} new messages": "{n} 条新消息 ↓", "1 new message": "1 条新消息 ↓",
    "{n} new messages since {time}": "↑ {time} 以来 {n} 条新消息", "1 new message since {time}": "↑ {time} 以来 1 条新消息",
    "joined": "加入了房间", "left": "离开了房间", "Sending…": "发送中…", "Not sent": "未发送", "Retry": "重试",
    "Waiting for connection": "连接后发送",
    "Beginning of #{room}": "这是 #{room} 的开始。", "Loading older messages…": "正在加载更早的消息…", "Loading newer messages…": "正在加载较新的消息…",
    "Today": "今天", "New": "新消息", "Yesterday": "昨天", "{n} characters left": "还可输入 {n} 字",
    "{n} characters too many": "超出 {n} 字",
    "1 character left": "还可输入 1 字", "1 character too many": "超出 1 字",
    "invalid": "这条消息无法发送。", "too_long": "消息最多 2000 字。",
    "rate_limited": "发送太快了，请稍等。", "unavailable": "服务器未能保存，请重试。",
    "Room names have 1–32 letters, digits, - or _.": "房间名为 1–32 个字母、数字、- 或 _。",
    "Could not load older messages.": "无法加载更早的消息。", "Could not load newer messages.": "无法加载较新的消息。", "Messages": "消息",
    "That message was sent already; it is further up.": "这条消息之前已发送，在上方更早的消息里。",
    "Delete": "删除", "Delete this message for everyone?": "要为所有人删除这条消息吗？", "This message was deleted.": "此消息已删除。",
    "not_found": "这条消息已删除。", "forbidden": "只能编辑或删除你这次登录后发送的消息。",
    "Edit": "编辑", "Save": "保存", "Saving…": "保存中…", "Cancel": "取消", "Editing message": "正在编辑消息",
    "Notify me": "通知我", "Notifications on": "通知已开启", "{user} in #{room}": "{user}（#{room}）", "{n} messages for you in #{room}": "#{room} 有 {n} 条给你的消息",
    "Show a notification when someone mentions you or replies to you while you are away": "你不在时，有人提及或回复你就显示通知",
    "Notifications are blocked for this site; your browser's site settings can allow them.": "此网站的通知已被阻止；可在浏览器的网站设置中允许。",
    "Topic": "主题", "Set the room's topic": "设置房间主题", "A line about what this room is for": "一句话说明这个房间是做什么的",
    "set the topic:": "把主题设为", "cleared the topic": "清除了主题", "Set by {user}, {when}": "{user} 设置于 {when}",
    "Link": "链接", "There is no such message in this room.": "这个房间里没有这条消息。", "Copy this link to the message:": "复制这条消息的链接：",
    "Latest messages ↓": "最新消息 ↓", "Names": "昵称", "Search": "搜索", "Search #{room}": "搜索 #{room}", "Searching…": "搜索中…", "No messages found.": "没有找到消息。",
    "More results": "更多结果", "Could not search.": "无法搜索。", "Searches have at most 100 characters.": "搜索最多 100 字。", "Could not load that message.": "无法加载这条消息。",
    "React": "回应", "{names} reacted with {emoji}": "{names} 回应了 {emoji}",
    "{names} and 1 other reacted with {emoji}": "{names} 等 {total} 人回应了 {emoji}", "{names} and {n} others reacted with {emoji}": "{names} 等 {total} 人回应了 {emoji}",
    "Reply": "回复", "Replying to {name}": "回复 {name}", "An earlier message": "更早的一条消息",
    "(edited)": "（已编辑）", "Edited {when}": "编辑于 {when}", "A message cannot be empty; delete it instead.": "消息不能为空；不想要了可以删除它。",
    "Invite": "邀请", "Copy a link to this room": "复制本房间的链接", "Link copied": "链接已复制",
    "Copy this link and send it to the people you want to invite:": "复制这个链接，发给你想邀请的人：",
    "{a} is typing…": "{a} 正在输入…", "{a} and {b} are typing…": "{a} 和 {b} 正在输入…",
    "{a}, {b} and {c} are typing…": "{a}、{b} 和 {c} 正在输入…", "Several people are typing…": "多人正在输入…",
  },
};
export const t = (key, vars = {}) => {
  let s = STR[lang][key] ?? STR.en[key] ?? key;
  for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
};

// plural picks the key for one or for {n}: English says "1 message" but
// "2 messages" (Chinese says both alike, and its table has both keys).
export const plural = (n, one, many, vars = {}) => t(n === 1 ? one : many, { ...vars, n });

// translatePage fills the page's own labels (data-i18n*) in the language.
export function translatePage(room) {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n, { room });
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder, { room });
  for (const el of document.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel, { room }));
  for (const el of document.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle, { room });
}
