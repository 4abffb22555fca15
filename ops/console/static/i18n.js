// The console's labels: Chinese by default, English on the switch.

const zh = {
  title: '客服热线控制台',
  'login.token': '运维令牌登录', 'login.tokenHint': '粘贴 kefu token 生成的令牌', 'login.go': '登录',
  'login.agent': '坐席登录', 'login.agentId': '工号', 'login.password': '密码',
  'login.open': '本机未配置令牌:无需登录', logout: '退出',
  'tab.live': '实时', 'tab.work': '工作单', 'tab.flows': '流程', 'tab.agent': '我的坐席',
  'conn.live': '实时连接', 'conn.lost': '连接中断,正在重连…',
  'fig.answered': '已接听', 'fig.abandoned': '放弃', 'fig.timedOut': '超时', 'fig.rate': '接通率',
  'fig.target': '目标', 'fig.level': '20秒服务水平', 'fig.wait': '平均等待', 'fig.calls': '通话中', 'fig.waiting': '排队中',
  'chart.calls': '今日通话数(每5分钟最大值)', 'chart.answered': '今日接听/放弃(每5分钟)',
  'calls.title': '进行中的通话', 'calls.none': '当前没有通话',
  'col.caller': '主叫', 'col.flow': '流程', 'col.step': '当前步骤', 'col.time': '通话时长', 'col.line': '线路', 'col.state': '状态',
  'col.queue': '队列', 'col.pos': '位置', 'col.agent': '坐席', 'col.actions': '操作', 'col.waited': '已等待', 'col.estimate': '预计等待',
  'col.agents': '坐席数', 'col.waitingN': '排队', 'col.longest': '最长等待', 'col.level': '服务水平', 'col.rate': '接通率',
  'col.id': '编号', 'col.name': '姓名', 'col.since': '状态持续', 'col.callsToday': '今日通话', 'col.missed': '连续未接', 'col.reason': '原因',
  'col.at': '时间', 'col.number': '回拨号码', 'col.done': '状态', 'col.attempts': '尝试', 'col.outcome': '结果',
  'col.class': '类别', 'col.deadline': '答复期限', 'col.recording': '录音', 'col.survey': '问卷', 'col.score': '评分', 'col.key': '按键',
  'col.pattern': '号码/前缀', 'col.addedBy': '添加人', 'col.expires': '到期', 'col.action': '处理', 'col.calls': '次数', 'col.until': '截至',
  'col.status': '状态', 'col.priority': '优先级',
  'queues.title': '队列', 'waiting.title': '排队中的来电', 'waiting.none': '没有人在排队',
  'agents.title': '坐席', 'agents.none': '未配置坐席',
  'state.offline': '离线', 'state.available': '空闲', 'state.ringing': '振铃', 'state.on_call': '通话中', 'state.wrap_up': '整理',
  'state.paused': '暂停', 'state.ringing_call': '振铃', 'state.answered': '已接通',
  'line.speech': '说话', 'line.weak': '声音弱', 'line.noise': '噪声', 'held': '保持',
  'btn.hangup': '挂断', 'btn.ready': '就绪', 'btn.pause': '暂停', 'btn.signout': '签出', 'btn.refresh': '刷新',
  'btn.done': '已回拨', 'btn.cancel': '取消', 'btn.requeue': '重新排队', 'btn.replied': '已答复', 'btn.resolved': '已解决',
  'btn.play': '播放', 'btn.remove': '移除', 'btn.add': '添加', 'btn.confirm': '确认', 'btn.reject': '驳回', 'btn.unflag': '解除',
  'btn.check': '检查配置文件', 'btn.reload': '重新加载', 'btn.copy': '复制', 'btn.simulate': '模拟', 'btn.listen': '试听',
  'work.callbacks': '回拨', 'work.complaints': '投诉与留言', 'work.surveys': '满意度', 'work.nuisance': '骚扰名单',
  'work.open': '待处理', 'work.done': '已完成', 'work.overdue': '已超期', 'work.empty': '没有记录',
  'work.mean': '平均分', 'work.proposed': '待确认的建议', 'work.flags': '频繁来电标记', 'work.list': '名单',
  'nuisance.reasonAsk': '移除原因(记入审计日志):', 'nuisance.ttl': '有效期', 'nuisance.forever': '长期',
  'nuisance.route': '转骚扰流程', 'nuisance.reject': '拒接',
  'flows.version': '配置版本', 'flows.exceptions': '规则例外(kefu check)', 'flows.none': '无',
  'flows.checkOk': '配置文件检查通过', 'flows.checkBad': '配置文件有错误', 'flows.changed': '文件已修改,尚未加载',
  'flows.reloaded': '已加载新配置', 'flows.refused': '新配置被拒绝,继续使用当前配置', 'flows.mermaid': 'Mermaid 文本',
  'flows.diagram': '流程图', 'flows.routes': '路由',
  'sim.title': '模拟来电', 'sim.flow': '流程', 'sim.byRoute': '(按路由)', 'sim.caller': '来电脚本', 'sim.at': '时间',
  'sim.from': '主叫号码', 'sim.to': '被叫', 'sim.refused': '接听前被拒绝,状态码', 'sim.hungUp': '挂断方',
  'sim.hint': '例:speech@3s, keys@4s:1, weak@3s, noisy@0s, hangup@40s',
  'me.state': '我的状态', 'me.caller': '当前来电', 'me.none': '无', 'me.pauseReason': '暂停原因',
  'reason.break': '休息', 'reason.meal': '用餐', 'reason.training': '培训', 'reason.meeting': '会议',
  'err.forbidden': '没有权限', 'confirm.hangup': '确定挂断这通电话?', 'confirm.signout': '确定签出?', 'confirm.replied': '确认已答复该来电人?',
  'role.viewer': '只读', 'role.agent': '坐席', 'role.operator': '运维',
  sec: '秒', min: '分',
};

const en = {
  title: 'Hotline console',
  'login.token': 'Log in with an ops token', 'login.tokenHint': 'paste the token kefu token printed', 'login.go': 'Log in',
  'login.agent': 'Agent log-in', 'login.agentId': 'Agent ID', 'login.password': 'Password',
  'login.open': 'No tokens configured on this machine: no log-in needed', logout: 'Log out',
  'tab.live': 'Live', 'tab.work': 'Work lists', 'tab.flows': 'Flows', 'tab.agent': 'My desk',
  'conn.live': 'live', 'conn.lost': 'connection lost, reconnecting…',
  'fig.answered': 'Answered', 'fig.abandoned': 'Abandoned', 'fig.timedOut': 'Timed out', 'fig.rate': 'Answer rate',
  'fig.target': 'target', 'fig.level': 'Answered in 20 s', 'fig.wait': 'Average wait', 'fig.calls': 'In calls', 'fig.waiting': 'Waiting',
  'chart.calls': 'Calls today (most per 5 min)', 'chart.answered': 'Answered / abandoned today (per 5 min)',
  'calls.title': 'Calls in progress', 'calls.none': 'No calls now',
  'col.caller': 'Caller', 'col.flow': 'Flow', 'col.step': 'Step', 'col.time': 'Time in call', 'col.line': 'Line', 'col.state': 'State',
  'col.queue': 'Queue', 'col.pos': 'Position', 'col.agent': 'Agent', 'col.actions': '', 'col.waited': 'Waited', 'col.estimate': 'Estimate',
  'col.agents': 'Agents', 'col.waitingN': 'Waiting', 'col.longest': 'Longest', 'col.level': 'Service level', 'col.rate': 'Answer rate',
  'col.id': 'ID', 'col.name': 'Name', 'col.since': 'In state for', 'col.callsToday': 'Calls today', 'col.missed': 'Missed', 'col.reason': 'Reason',
  'col.at': 'At', 'col.number': 'Call back on', 'col.done': 'State', 'col.attempts': 'Attempts', 'col.outcome': 'Outcome',
  'col.class': 'Class', 'col.deadline': 'Reply by', 'col.recording': 'Recording', 'col.survey': 'Survey', 'col.score': 'Score', 'col.key': 'Key',
  'col.pattern': 'Number or prefix', 'col.addedBy': 'Added by', 'col.expires': 'Expires', 'col.action': 'Action', 'col.calls': 'Calls', 'col.until': 'Until',
  'col.status': 'Status', 'col.priority': 'Priority',
  'queues.title': 'Queues', 'waiting.title': 'Callers waiting', 'waiting.none': 'Nobody is waiting',
  'agents.title': 'Agents', 'agents.none': 'No agents configured',
  'state.offline': 'offline', 'state.available': 'available', 'state.ringing': 'ringing', 'state.on_call': 'on a call', 'state.wrap_up': 'wrap-up',
  'state.paused': 'paused', 'state.ringing_call': 'ringing', 'state.answered': 'answered',
  'line.speech': 'speech', 'line.weak': 'weak', 'line.noise': 'noise', 'held': 'on hold',
  'btn.hangup': 'Hang up', 'btn.ready': 'Ready', 'btn.pause': 'Pause', 'btn.signout': 'Sign out', 'btn.refresh': 'Refresh',
  'btn.done': 'Called back', 'btn.cancel': 'Cancel', 'btn.requeue': 'Re-queue', 'btn.replied': 'Replied', 'btn.resolved': 'Resolved',
  'btn.play': 'Play', 'btn.remove': 'Remove', 'btn.add': 'Add', 'btn.confirm': 'Confirm', 'btn.reject': 'Reject', 'btn.unflag': 'Clear',
  'btn.check': 'Check the file', 'btn.reload': 'Reload', 'btn.copy': 'Copy', 'btn.simulate': 'Simulate', 'btn.listen': 'Listen',
  'work.callbacks': 'Callbacks', 'work.complaints': 'Complaints and messages', 'work.surveys': 'Surveys', 'work.nuisance': 'Nuisance list',
  'work.open': 'open', 'work.done': 'done', 'work.overdue': 'overdue', 'work.empty': 'Nothing here',
  'work.mean': 'mean score', 'work.proposed': 'Proposed entries', 'work.flags': 'Repeat-call flags', 'work.list': 'List',
  'nuisance.reasonAsk': 'Why remove it (kept in the audit log)?', 'nuisance.ttl': 'For', 'nuisance.forever': 'until removed',
  'nuisance.route': 'nuisance path', 'nuisance.reject': 'reject',
  'flows.version': 'Configuration', 'flows.exceptions': 'Rule exceptions (kefu check)', 'flows.none': 'none',
  'flows.checkOk': 'The file checks out', 'flows.checkBad': 'The file has errors', 'flows.changed': 'the file changed and is not loaded yet',
  'flows.reloaded': 'New configuration applied', 'flows.refused': 'Refused; the running configuration stays', 'flows.mermaid': 'Mermaid text',
  'flows.diagram': 'Flowchart', 'flows.routes': 'Routes',
  'sim.title': 'Simulate a call', 'sim.flow': 'Flow', 'sim.byRoute': '(by the routes)', 'sim.caller': 'Caller script', 'sim.at': 'At',
  'sim.from': 'From', 'sim.to': 'To', 'sim.refused': 'Refused before the answer with', 'sim.hungUp': 'hung up by',
  'sim.hint': 'e.g. speech@3s, keys@4s:1, weak@3s, noisy@0s, hangup@40s',
  'me.state': 'My state', 'me.caller': 'Current caller', 'me.none': 'none', 'me.pauseReason': 'Pause reason',
  'reason.break': 'break', 'reason.meal': 'meal', 'reason.training': 'training', 'reason.meeting': 'meeting',
  'err.forbidden': 'not allowed', 'confirm.hangup': 'Hang up this call?', 'confirm.signout': 'Sign out?', 'confirm.replied': 'Mark it replied?',
  'role.viewer': 'viewer', 'role.agent': 'agent', 'role.operator': 'operator',
  sec: 's', min: 'min',
};

const sets = { zh, en };
let lang = localStorage.getItem('kefu.lang') === 'en' ? 'en' : 'zh';

export function t(key) {
  return sets[lang][key] ?? zh[key] ?? key;
}

export function getLang() {
  return lang;
}

export function setLang(l) {
  lang = l === 'en' ? 'en' : 'zh';
  localStorage.setItem('kefu.lang', lang);
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const e of document.querySelectorAll('[data-i18n-placeholder]')) e.placeholder = t(e.dataset.i18nPlaceholder);
}

// keys lists every label, for the test that both languages have them all.
export const keys = { zh: Object.keys(zh), en: Object.keys(en) };
