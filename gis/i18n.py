"""The app's one message catalogue (Chinese first, English second) and Chinese formatting.

Long because: it is the one catalogue, so every text a user reads (pages, CLI, printed sheets)
is one entry here with both languages side by side.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import date, datetime

from gis.errors import ValidationError
from gis.localtime import LOCAL_TZ

LANGUAGES: tuple[str, ...] = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

#: key → (Chinese, English). Placeholders use str.format names and must match in both.
MESSAGES: Mapping[str, tuple[str, str]] = {
    # app frame
    "app.title": ("什刹海综合执法巡查系统", "Shichahai patrol and enforcement"),
    "app.language": ("语言", "Language"),
    "app.logout": ("退出登录", "Log out"),
    "app.choose": ("请选择", "Choose"),
    "app.signed_in_as": ("当前用户：{name}（{role}）", "Signed in as {name} ({role})"),
    "app.session_until": ("会话有效至 {time}", "Session valid until {time}"),
    "app.basemap": ("底图", "Basemap"),
    "app.basemap.none": ("无底图（离线）", "None (offline)"),
    "app.basemap.osm": ("OpenStreetMap 在线底图", "OpenStreetMap tiles (online)"),
    "app.basemap.tianditu": ("天地图（需密钥）", "Tianditu (needs a key)"),
    "app.basemap.no_key": (
        "未配置天地图密钥（PATROL_TIANDITU_KEY），已改用无底图。",
        "No Tianditu key configured (PATROL_TIANDITU_KEY); showing no basemap.",
    ),
    "app.error": ("出错了：{message}", "Something went wrong: {message}"),
    "app.loading": ("正在加载……", "Loading…"),
    # login
    "login.title": ("登录", "Log in"),
    "login.username": ("用户名", "User name"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.bad_credentials": (
        "用户名或密码错误。再错 {remaining} 次后，每次重试都须等待，且等待时间逐次加倍"
        "（最长 {minutes} 分钟）。",
        "Wrong user name or password. After {remaining} more failure(s) each new attempt "
        "has to wait, twice as long each time (at most {minutes} minutes).",
    ),
    "login.locked": (
        "登录失败次数过多，请于 {time} 之后再试（暂缓登录，并未锁定账号）。",
        "Too many failed logins: try again after {time} (a short wait, the account is not locked).",
    ),
    "login.expired": (
        "会话已过期，请重新登录。",
        "Your session has expired; please log in again.",
    ),
    "login.no_users": (
        "系统中还没有用户。可用命令 `patrol users add` 添加，或为演示数据创建演示账号。",
        "There are no users yet. Add one with `patrol users add`, or create the demo accounts "
        "for the demo data.",
    ),
    "login.seed_demo": ("创建演示账号", "Create demo accounts"),
    "login.seeded": ("已创建演示账号：{names}", "Demo accounts created: {names}"),
    "login.empty": ("请输入用户名和密码。", "Enter a user name and password."),
    # roles
    "role.leadership": ("中心领导", "Leadership"),
    "role.area_chief": ("片区长", "Area chief"),
    "role.patrol": ("巡查队员", "Patrol member"),
    "role.liaison": ("部门联络员", "Department liaison"),
    "role.admin": ("系统管理员", "Administrator"),
    "role.reporter": ("志愿者/居民上报员", "Volunteer or resident reporter"),
    # pages
    "page.overview": ("总览", "Overview"),
    "page.districts": ("责任区", "Districts"),
    "page.patrol": ("巡查路线", "Patrol routes"),
    "page.cases": ("案件", "Cases"),
    "page.hotspots": ("热点", "Hotspots"),
    "page.users": ("用户", "Users"),
    "page.crowd": ("客流预警", "Crowd warning"),
    "page.coordination": ("协同", "Coordination"),
    "auth.forbidden_page": (
        "您的角色（{role}）无权打开“{page}”。",
        "Your role ({role}) may not open “{page}”.",
    ),
    "auth.forbidden_scope": (
        "您无权查看{what}：它不在您的责任范围内。已改为显示您自己的范围。",
        "You may not view {what}: it is outside your area of responsibility. Showing your own "
        "area instead.",
    ),
    "auth.zone": ("片区 {id}", "zone {id}"),
    "auth.person": ("人员 {id}", "person {id}"),
    "auth.front": ("战线 {id}", "front {id}"),
    # overview
    "overview.title": ("总览地图", "Overview map"),
    "overview.caption": (
        "点击片区或街巷，查看责任人和未结案件。",
        "Click a zone or street to see who is responsible and its open cases.",
    ),
    "overview.counts": (
        "{zones} 个网格片区 · {segments} 段街巷 · 总长 {km} 公里",
        "{zones} zones · {segments} street segments · {km} km in total",
    ),
    "overview.clicked_outside": (
        "点击位置（{lat}, {lon}）在什刹海街道范围之外，请点击街道内部。",
        "The clicked point ({lat}, {lon}) is outside the subdistrict; click inside it.",
    ),
    "overview.clicked_zone": ("片区：{name}（{zone_id}）", "Zone: {name} ({zone_id})"),
    "overview.clicked_front": ("战线：{name}", "Front: {name}"),
    "overview.clicked_street": (
        "最近街巷：{name}（{segment_id}，距点击处 {distance} 米）",
        "Nearest street: {name} ({segment_id}, {distance} m from the click)",
    ),
    "overview.unnamed": ("无名街巷", "unnamed lane"),
    "overview.responsible": ("责任人：{person}", "Responsible: {person}"),
    "overview.no_responsible": (
        "责任人：尚未划分责任区。",
        "Responsible: no districts assigned yet.",
    ),
    "overview.open_cases": ("未结案件：{count} 件", "Open cases: {count}"),
    "overview.out_of_scope": (
        "此处不在您的责任范围内，不显示责任人和案件。",
        "This place is outside your area of responsibility; its people and cases are hidden.",
    ),
    "overview.scope": ("您的范围：{zones}", "Your area: {zones}"),
    "overview.scope_all": ("您的范围：全街道", "Your area: the whole subdistrict"),
    # districts
    "districts.title": ("责任区划分", "Districts per person"),
    "districts.k": ("人数", "Number of people"),
    "districts.area": ("范围", "Area"),
    "districts.compute": ("划分责任区", "Compute districts"),
    "districts.balance": (
        "工作量最多 {max}、最少 {min} 分钟/月，不均衡度（最多÷最少）{ratio}",
        "Workload: most {max}, least {min} minutes a month; imbalance (most ÷ least) {ratio}",
    ),
    "districts.move": ("把街巷调给", "Move street to"),
    "districts.segment": ("街巷", "Street segment"),
    "districts.apply_move": ("调整", "Move"),
    "districts.saved": ("已保存责任区。", "Districts saved."),
    "districts.save": ("保存", "Save"),
    "districts.signboards": ("下载街巷长公示牌", "Download lane-chief signboards"),
    "districts.person": ("人员", "Person"),
    "districts.length": ("长度（米）", "Length (m)"),
    "districts.segments": ("街巷段数", "Segments"),
    "districts.workload": ("工作量（分钟/月）", "Workload (min/month)"),
    "districts.break": (
        "这样调整会把 {person} 的责任区分成 {pieces} 块。",
        "This move splits the district of {person} into {pieces} pieces.",
    ),
    "districts.ratio_change": (
        "工作量不均衡度：{before} → {after}",
        "Workload imbalance: {before} → {after}",
    ),
    "districts.download": ("下载划分表（CSV）", "Download the assignment (CSV)"),
    # patrol
    "patrol.title": ("今日巡查路线", "Today's patrol route"),
    "patrol.person": ("人员", "Person"),
    "patrol.mode": ("路线类型", "Route type"),
    "patrol.mode.postman": ("全覆盖（邮路）", "Cover every street (postman)"),
    "patrol.mode.k": ("多人分组", "Split among k people"),
    "patrol.mode.budget": ("限时热点优先", "Time budget, hotspots first"),
    "patrol.minutes": ("时长（分钟）", "Time budget (minutes)"),
    "patrol.plan": ("生成路线", "Plan route"),
    "patrol.summary": (
        "全长 {km} 公里，步行约 {minutes} 分钟，共 {steps} 步",
        "{km} km, about {minutes} minutes on foot, {steps} steps",
    ),
    "patrol.steps": ("步骤", "Steps"),
    "patrol.gpx": ("下载 GPX", "Download GPX"),
    "patrol.sheet": ("下载路线单", "Download route sheet"),
    "patrol.start": ("起点", "Start"),
    "patrol.no_district": (
        "还没有为您划定责任区，也没有指定片区，暂时无法生成路线。请联系片区长。",
        "No district or zone is assigned to you yet, so no route can be planned. Ask your "
        "area chief.",
    ),
    "patrol.no_weights": (
        "这些街巷近期没有案件记录，无法按热点安排限时路线；请改用全覆盖路线。",
        "These streets have no recent cases to weigh a time-budgeted route; use the "
        "cover-every-street route instead.",
    ),
    "patrol.team_member": ("第 {n} 组路线", "Route {n}"),
    # cases
    "cases.title": ("案件", "Cases"),
    "cases.report": ("上报问题", "Report a problem"),
    "cases.report_hint": (
        "在地图上点击问题位置，或输入坐标。",
        "Click the problem's place on the map, or type coordinates.",
    ),
    "cases.lon": ("经度", "Longitude"),
    "cases.lat": ("纬度", "Latitude"),
    "cases.datum": ("坐标系", "Datum"),
    "cases.datum.wgs84": ("WGS 84（GPS、天地图、OSM）", "WGS 84 (GPS, Tianditu, OSM)"),
    "cases.datum.gcj02": ("GCJ-02（高德、腾讯、微信）", "GCJ-02 (AMap, Tencent, WeChat)"),
    "cases.datum.bd09": ("BD-09（百度）", "BD-09 (Baidu)"),
    "cases.category": ("问题类别", "Category"),
    "cases.tier": ("级别", "Tier"),
    "cases.source": ("来源", "Source"),
    "cases.description": ("情况描述", "Description"),
    "cases.submit": ("上报", "Report"),
    "cases.reported": ("已上报案件 {case_id}。", "Case {case_id} reported."),
    "cases.already_reported": (
        "同一问题已上报为案件 {case_id}，未重复登记。",
        "The same problem was already reported as case {case_id}; it was not entered twice.",
    ),
    "cases.point": ("位置：{lat}, {lon}", "Place: {lat}, {lon}"),
    "cases.no_point": (
        "请先在地图上点击位置或输入坐标。",
        "Click the map or type coordinates first.",
    ),
    "cases.outside": (
        "该位置（{lat}, {lon}）不在什刹海街道范围内，未保存。",
        "That place ({lat}, {lon}) is outside the subdistrict; nothing was saved.",
    ),
    "cases.datum_suspect": (
        "该坐标按 WGS 84 落在街道外，但按 GCJ-02 换算后落在街道内：很可能来自高德/腾讯/微信。"
        "请把坐标系改为 GCJ-02 后再上报。未保存。",
        "As WGS 84 this point is outside the subdistrict, but as GCJ-02 it is inside: it most "
        "likely comes from AMap/Tencent/WeChat. Choose GCJ-02 and report again. Nothing was "
        "saved.",
    ),
    "cases.list": ("案件列表", "Case list"),
    "cases.state": ("状态", "State"),
    "cases.advance": ("推进案件", "Advance case"),
    "cases.to_state": ("转到", "Move to"),
    "cases.photo_missing": ("请先选择照片文件。", "Choose a photo file first."),
    "cases.note": ("备注", "Note"),
    "cases.apply": ("执行", "Apply"),
    "cases.advanced": ("案件 {case_id} 已转为“{state}”。", "Case {case_id} moved to “{state}”."),
    "cases.stale": (
        "案件 {case_id} 已被他人更新为“{state}”，您的操作未执行：请查看最新状态后再操作。",
        "Case {case_id} was changed by someone else to “{state}”; your action was not applied: "
        "check the current state and try again.",
    ),
    "cases.audit": ("处理记录", "Audit trail"),
    "cases.overdue": ("超期 {count} 件", "{count} overdue"),
    "cases.none": ("没有可显示的案件。", "No cases to show."),
    "cases.import": ("批量导入", "Batch import"),
    "cases.upload": ("上传 CSV 或 GeoJSON", "Upload a CSV or GeoJSON"),
    "cases.preview": (
        "预览：{ok} 条可导入，{bad} 条被拒绝",
        "Preview: {ok} to import, {bad} rejected",
    ),
    "cases.import_do": ("导入", "Import"),
    "cases.imported": ("已导入 {count} 条。", "{count} imported."),
    "cases.rejects": ("被拒绝的记录", "Rejected rows"),
    "cases.bad_file": (
        "文件无法读取：{message}。请上传 UTF-8 编码的 CSV 或 GeoJSON。",
        "The file cannot be read: {message}. Upload a UTF-8 CSV or GeoJSON.",
    ),
    "cases.hours": ("整改期限（小时）", "Deadline (hours)"),
    "cases.deadline_reason": (
        "规定的整改期限是 {rule} 小时；要改为 {hours} 小时，请在“备注”中写明理由。",
        "The rules give {rule} h; to set {hours} h say why in the note field.",
    ),
    "cases.case": ("案件 {id}", "case {id}"),
    "cases.deadline": ("期限：{time}", "Deadline: {time}"),
    "cases.when": ("时间", "When"),
    "cases.who": ("经办人", "By"),
    "cases.count": ("共 {count} 件", "{count} cases"),
    "cases.id": ("编号", "Case"),
    "cases.reported_at": ("上报时间", "Reported"),
    "cases.overdue_flag": ("超期", "Overdue"),
    "cases.case_select": ("查看案件", "Open case"),
    "cases.reason": ("原因", "Reason"),
    "cases.import_datum": (
        "坐标系不符：{message}。请在上方选择正确的坐标系后重新上传。未导入任何记录。",
        "Wrong datum: {message}. Choose the right datum above and upload again. Nothing was "
        "imported.",
    ),
    "cases.layer": ("案件", "Cases"),
    "cases.open_only": (
        "只看未结案件（关闭后显示最近 30 天的全部案件）",
        "Open cases only (off: every case of the last 30 days)",
    ),
    "cases.state.reported": ("已上报", "Reported"),
    "cases.state.registered": ("已立案", "Registered"),
    "cases.state.notice_served": ("限期整改", "Notice served"),
    "cases.state.rechecking": ("复查中", "Rechecking"),
    "cases.state.joint_enforcement": ("联合执法", "Joint enforcement"),
    "cases.state.handled": ("已处置", "Handled"),
    "cases.state.closed": ("已结案", "Closed"),
    "cases.state.rejected": ("不予立案", "Rejected"),
    "cases.state.duplicate": ("重复上报", "Duplicate"),
    "cases.action.register": ("立案", "Register"),
    "cases.action.reject": ("不予立案（须填备注）", "Reject (note required)"),
    "cases.action.mark_duplicate": ("标记为重复", "Mark as duplicate"),
    "cases.action.escalate": ("升级", "Escalate"),
    "cases.action.serve_notice": ("下达限期整改通知", "Serve a notice"),
    "cases.action.call_joint": ("吹哨：联合执法", "Call joint enforcement"),
    "cases.action.recheck": ("到期复查", "Recheck"),
    "cases.action.close_rectified": ("已整改，结案", "Rectified: close"),
    "cases.action.record_arrival": ("部门报到", "Record arrival"),
    "cases.action.handle": ("处置完毕", "Handled"),
    "cases.action.verify_close": ("核查结案", "Verify and close"),
    "cases.store_missing": (
        "案件库尚未安装，暂不能上报或查看案件。",
        "The case store is not installed yet; cases cannot be reported or viewed.",
    ),
    # hotspots
    "hotspots.title": ("热点分析", "Hotspots"),
    "hotspots.period": ("时间范围", "Period"),
    "hotspots.layer": ("图层", "Layer"),
    "hotspots.density": ("密度", "Density"),
    "hotspots.gistar": ("Gi* 热点", "Gi* hotspots"),
    "hotspots.forecast": ("预测", "Forecast"),
    "hotspots.kpis": ("关键指标", "Key figures"),
    "hotspots.report": ("报告", "Report"),
    "hotspots.report.daily": ("日报", "Daily"),
    "hotspots.report.weekly": ("周报", "Weekly"),
    "hotspots.report.monthly": ("月报", "Monthly"),
    "hotspots.download": ("下载报告", "Download report"),
    "hotspots.score": ("预测得分：{score}", "Forecast score: {score}"),
    "hotspots.day": ("报告日期", "Report date"),
    "hotspots.figure": ("指标", "Figure"),
    "hotspots.value": ("数值", "Value"),
    "hotspots.by_category": ("按问题类别", "By category"),
    "hotspots.last_days": ("最近 {days} 天", "Last {days} days"),
    # users
    "users.title": ("用户管理", "Users"),
    "users.add": ("添加用户", "Add user"),
    "users.username": ("用户名", "User name"),
    "users.display_name": ("姓名", "Name"),
    "users.role": ("角色", "Role"),
    "users.zones": ("片区", "Zones"),
    "users.fronts": ("战线", "Fronts"),
    "users.person_id": ("人员", "Person"),
    "users.department": ("部门", "Department"),
    "users.password": ("初始密码", "Initial password"),
    "users.added": ("已添加用户 {username}。", "User {username} added."),
    "users.passwd": ("重设密码", "Reset password"),
    "users.passwd_done": ("已重设 {username} 的密码。", "Password of {username} reset."),
    "users.active": ("启用", "Active"),
    "users.count": ("共 {count} 个用户", "{count} users"),
    # crowd
    "crowd.title": ("客流预警", "Crowd-flow early warning"),
    "crowd.no_places": (
        "没有客流监测点位：{message}",
        "No crowd watch places: {message}",
    ),
    "crowd.clock": ("当前时间：{time}", "Time now: {time}"),
    "crowd.replay_clock": (
        "节假日回放（{day}，合成演示数据）：{time}",
        "Holiday replay ({day}, synthetic demo data): {time}",
    ),
    "crowd.seed": ("载入演示：回放最近的节假日", "Load the demo: replay the last holiday"),
    "crowd.seeded": (
        "已载入合成客流数据，回放从 {time} 开始。",
        "Synthetic counts loaded; the replay starts at {time}.",
    ),
    "crowd.advance": ("前进 {minutes} 分钟", "Forward {minutes} min"),
    "crowd.advanced": ("回放到 {time}，新预警 {n} 条。", "Replayed to {time}: {n} new alerts."),
    "crowd.alerts": ("预警", "Alerts"),
    "crowd.no_alerts": ("暂无待处置预警。", "No alerts to handle."),
    "crowd.alert_head": (
        "{place} · {level}预警 · 预计 {expected} 达到（提前 {lead} 分钟）· 现有 {now}/{capacity} 人 · "
        "预测峰值 {peak} 人",
        "{place} · {level} alert · expected at {expected} ({lead} min ahead) · now {now}/"
        "{capacity} people · forecast peak {peak}",
    ),
    "crowd.alert_state": ("状态：{state}", "State: {state}"),
    "crowd.nearest": ("最近在岗人员（步行）", "Nearest on-duty staff (walking)"),
    "crowd.minutes": ("步行分钟", "Walk (min)"),
    "crowd.source.roster": ("在岗人员取自今日排班", "On duty per today's roster"),
    "crowd.source.districts": (
        "今日无排班：在岗人员按责任片区与人员班次",
        "No roster today: on duty per the districts' staff and their shifts",
    ),
    "crowd.ack": ("确认", "Acknowledge"),
    "crowd.raise_major": ("立案（重大）", "Raise case (major)"),
    "crowd.raise_emergency": ("立案（突发）", "Raise case (emergency)"),
    "crowd.acked": ("已确认预警 {id}。", "Alert {id} acknowledged."),
    "crowd.raised": (
        "已立案：{case}（人群聚集风险，{tier}）。",
        "Case {case} opened (crowd risk, {tier}).",
    ),
    "crowd.timeline": ("点位客流与预测", "Occupancy and forecast per place"),
    "crowd.place": ("点位", "Place"),
    "crowd.observed": ("实测", "Observed"),
    "crowd.forecast": ("预测", "Forecast"),
    "crowd.holiday": ("下一个节假日客流（{day}）", "The next holiday ({day})"),
    "crowd.holiday_show": (
        "显示下一个节假日的客流预测",
        "Show the next holiday's expected profile",
    ),
    "crowd.no_holiday": (
        "节假日历中没有下一个节假日。",
        "The holiday calendar has no next holiday.",
    ),
    "crowd.log": ("日报：客流预警记录（{day}）", "Daily report: crowd alert log ({day})"),
    "crowd.download": ("下载日报（含预警记录）", "Download the daily report (with the alert log)"),
    "crowd.state.open": ("待处置", "open"),
    "crowd.state.acknowledged": ("已确认", "acknowledged"),
    "crowd.state.escalated": ("已立案", "raised to case"),
    "crowd.tier.major": ("重大", "major"),
    "crowd.tier.emergency": ("突发", "emergency"),
    # people: my day, team board, staff
    "page.myday": ("我的一天", "My day"),
    "page.team": ("排班与签到", "Roster and sign-in"),
    "page.staff": ("人员管理", "Staff"),
    "myday.title": ("我的一天", "My day"),
    "myday.no_person": (
        "此账号未关联人员编号，请管理员在用户管理中填写。",
        "This account is not linked to a person; ask an administrator to set the person id.",
    ),
    "myday.not_on_staff": (
        "人员 {person} 不在人员表中，请领导或管理员先导入人员。",
        "Person {person} is not on the staff table; leadership or admin must import staff first.",
    ),
    "myday.duty": ("今天 {day}：{name}，{duty}", "Today {day}: {name}, {duty}"),
    "myday.off": ("今天没有排班（{duty}）。", "No shift today ({duty})."),
    "myday.no_roster": ("今天还没有排班。", "There is no roster for today yet."),
    "myday.signin": ("签到", "Sign in"),
    "myday.signin_help": (
        "允许浏览器获取位置后签到；未授权时签到会标记为“无位置”。",
        "Allow the browser to share your position; without it the sign-in is flagged "
        "“no position”.",
    ),
    "myday.position": ("位置：{lat:.5f}, {lon:.5f}", "Position: {lat:.5f}, {lon:.5f}"),
    "myday.no_position": ("未获得位置", "No position yet"),
    "myday.signed": ("已签到：{slot} {time}{flags}", "Signed in: {slot} {time}{flags}"),
    "myday.plan": ("今日任务", "Today's work"),
    "myday.route": ("{task}：{km} 公里，约 {minutes} 分钟", "{task}: {km} km, about {minutes} min"),
    "myday.print": ("下载打印版（HTML）", "Download the printable page (HTML)"),
    "myday.upload": ("上传巡查轨迹（GPX）", "Upload a patrol track (GPX)"),
    "myday.datum": ("坐标系", "Datum"),
    "myday.upload_button": ("上传", "Upload"),
    "myday.uploaded": (
        "轨迹已保存：{points} 个点，{start}–{end}。",
        "Track stored: {points} points, {start}–{end}.",
    ),
    "myday.duplicate": ("该轨迹已上传过，未重复保存。", "This track was already stored."),
    "myday.cleaned": ("已清理：{note}", "Cleaned: {note}"),
    "duty.morning": ("早班 拆违", "Morning: illegal structures"),
    "duty.midday": ("午班 巡查", "Midday: patrol"),
    "duty.evening": ("晚班 整治", "Evening: clean-up"),
    "duty.on_call": ("备勤", "On call"),
    "duty.rest": ("休息", "Rest"),
    "duty.leave": ("请假", "Leave"),
    "slot.morning": ("早签到 09:00", "Morning 09:00"),
    "slot.evening": ("晚签到 19:00", "Evening 19:00"),
    "team.title": ("排班与签到", "Roster and sign-in"),
    "team.today": ("今日值班", "On duty today"),
    "team.signins": ("今日签到", "Today's sign-ins"),
    "team.record": ("代为签到", "Record a sign-in"),
    "team.person": ("人员", "Person"),
    "team.recorded": ("已为 {person} 签到。", "Sign-in recorded for {person}."),
    "team.plans": ("今日任务（日碰头）", "Today's plans (daily huddle)"),
    "team.roster": ("本月排班", "This month's roster"),
    "team.make_roster": ("生成本月排班", "Make this month's roster"),
    "team.made": ("已生成 {cells} 个排班格。", "{cells} roster cells made."),
    "team.export": ("导出排班（Excel 可读 CSV）", "Export the roster (CSV for Excel)"),
    "team.draw_districts": ("为驻场人员划分责任区", "Draw districts for the resident officers"),
    "team.drawn": ("已记录 {n} 条街段责任。", "{n} segment assignments recorded."),
    "team.problems": ("排班提示：{text}", "Roster warning: {text}"),
    "team.week": ("本周出勤与巡查覆盖（周点评）", "This week: attendance and coverage"),
    "team.week_attendance": ("出勤（按班组）", "Attendance by team"),
    "team.week_coverage": ("计算巡查覆盖", "Compute patrol coverage"),
    "team.no_tracks": ("本周还没有上传轨迹。", "No tracks uploaded this week."),
    "staff.title": ("人员管理", "Staff"),
    "staff.count": ("共 {count} 人", "{count} people"),
    "staff.import_demo": ("导入演示人员（虚构）", "Import the demo staff (fictitious)"),
    "staff.imported": ("新增 {added} 人，更新 {updated} 人。", "{added} added, {updated} updated."),
    "staff.save": ("保存人员", "Save person"),
    "staff.retire": ("结束服务", "End service"),
    "staff.last_day": ("最后服务日", "Last day of service"),
    "staff.retired": ("{person} 服务至 {day}。", "{person} serves until {day}."),
    "staff.role.duty_officer": ("执法队员", "Duty officer"),
    "staff.role.auxiliary": ("协管员", "Auxiliary"),
    "staff.role.grid_worker": ("网格员", "Grid worker"),
    "staff.role.area_chief": ("片区长", "Area chief"),
    "staff.role.volunteer": ("志愿者", "Volunteer"),
    "staff.presence.resident": ("常驻", "Resident"),
    "staff.presence.on_call": ("随叫随到", "On call"),
    "staff.presence.auxiliary": ("协勤", "Auxiliary"),
    "staff.shift.": ("未定", "Not set"),
    "staff.shift.morning": ("早班 09–19", "Morning 09–19"),
    "staff.shift.evening": ("晚班 19–03", "Evening 19–03"),
    "staff.shift.day": ("白班 09–21", "Day 09–21"),
    "staff.shift.rotating": ("轮班", "Rotating"),
    "col.person_id": ("编号", "Id"),
    "col.name": ("姓名", "Name"),
    "col.team": ("班组", "Team"),
    "col.role": ("角色", "Role"),
    "col.department": ("部门", "Department"),
    "col.presence": ("在岗方式", "Presence"),
    "col.phone": ("电话", "Phone"),
    "col.shift": ("常规班次", "Usual shift"),
    "col.active_from": ("起始日", "From"),
    "col.active_to": ("截止日", "Until"),
    "col.duty": ("班次", "Duty"),
    "col.status": ("状态", "Status"),
    "col.time": ("时间", "Time"),
    "col.flags": ("标记", "Flags"),
    "col.kind": ("任务", "Task"),
    "col.km": ("公里", "km"),
    "col.minutes": ("分钟", "Minutes"),
    "col.street": ("街巷", "Street"),
    "col.sites": ("点位", "Sites"),
    "status.signed": ("按时", "On time"),
    "status.late": ("迟到", "Late"),
    "status.absent": ("缺勤", "Absent"),
    "status.pending": ("待签到", "Pending"),
    "flag.out_of_fence": ("范围外", "Out of fence"),
    # coordination (吹哨报到, alerts, consultations)
    "coordination.title": ("协同指挥", "Coordination"),
    "coordination.alerts": ("待确认提醒：{count}", "Alerts to acknowledge: {count}"),
    "coordination.no_alerts": ("没有待确认的提醒。", "No alerts to acknowledge."),
    "coordination.alert": ("{kind}：案件 {case}", "{kind}: case {case}"),
    "coordination.kind.major": ("重大问题", "Major problem"),
    "coordination.kind.approval": ("重大问题待审批", "Major problem: approval needed"),
    "coordination.kind.emergency": ("突发事件", "Emergency"),
    "coordination.kind.emergency_call": ("突发事件：请就近到场", "Emergency: go to the scene"),
    "coordination.kind.checklist": ("应急预案步骤", "Emergency plan step"),
    "coordination.kind.escalation": ("超期升级", "Overdue: escalated"),
    "coordination.kind.dispatch": ("吹哨：请30分钟内到场", "Whistle: be on site within 30 minutes"),
    "coordination.kind.report": ("群众上报", "Community report"),
    "coordination.ack": ("确认", "Acknowledge"),
    "coordination.approve": ("批准", "Approve"),
    "coordination.acked": ("已确认。", "Acknowledged."),
    "coordination.whistle": ("街道吹哨", "Blow the whistle"),
    "coordination.case": ("案件", "Case"),
    "coordination.depts": ("呼叫部门", "Departments to call"),
    "coordination.call": ("吹哨", "Call"),
    "coordination.called": (
        "已呼叫 {count} 个部门（案件 {case}）。",
        "{count} departments called (case {case}).",
    ),
    "coordination.no_cases": (
        "没有可吹哨的案件（需已立案或复查中）。",
        "No case to call departments to (registered or rechecking).",
    ),
    "coordination.inbox": ("本部门待到场：{count}", "My department's calls: {count}"),
    "coordination.inbox_empty": ("本部门没有待到场的呼叫。", "No open calls for my department."),
    "coordination.arrive": ("确认到场", "Confirm arrival"),
    "coordination.arrived": (
        "已确认到场（案件 {case}，用时 {minutes} 分钟）。",
        "Arrival confirmed (case {case}, {minutes} minutes).",
    ),
    "coordination.called_at": ("呼叫时间", "Called at"),
    "coordination.due_at": ("应到时间", "Due at"),
    "coordination.punctuality": ("各部门到场及时率", "Arrivals per department"),
    "coordination.consultations": ("会商记录", "Consultations"),
    "report.title": ("随手拍上报", "Report a problem"),
    "report.source": ("我是", "I am"),
    "report.source.xicheng_dama": ("西城大妈", "Xicheng Dama volunteer"),
    "report.source.grid_worker": ("网格员", "Grid worker"),
    "report.source.civility_team": ("文明劝导队", "Civility team"),
    "report.source.resident": ("居民", "Resident"),
    "report.lon": ("经度（WGS 84）", "Longitude (WGS 84)"),
    "report.lat": ("纬度（WGS 84）", "Latitude (WGS 84)"),
    "report.sentence": ("一句话说明", "One sentence"),
    "report.photo": ("照片", "Photo"),
    # Streamlit's file uploader says these in English only; the Chinese UI covers them
    "upload.button": ("选择文件", "Upload"),
    "upload.limit": ("或将文件拖放到此处 · 单个文件不超过 {mb} MB", "{mb}MB per file"),
    "upload.drop": ("松开即可上传", "Drag and drop a file here"),
    "report.gps": ("使用手机定位", "Use my phone's position"),
    "report.gps_waiting": (
        "正在获取手机定位……如浏览器询问，请允许定位。",
        "Getting the phone's position… allow it if the browser asks.",
    ),
    "report.gps_failed": (
        "无法获取手机定位（{reason}）：请在下方地图上点选位置，或直接输入经纬度。",
        "No position from the phone ({reason}): tap the map below, or type the coordinates.",
    ),
    "report.gps.denied": ("未允许定位", "permission denied"),
    "report.gps.unavailable": ("定位不可用", "position unavailable"),
    "report.gps.timeout": ("定位超时", "timed out"),
    "report.tap": ("在地图上点选问题所在位置：", "Tap the map where the problem is:"),
    "report.point_gps": (
        "已采用手机定位：{lat}，{lon}",
        "Using the phone's position: {lat}, {lon}",
    ),
    "report.point_map": (
        "已采用地图点选位置：{lat}，{lon}",
        "Using the tapped place: {lat}, {lon}",
    ),
    "report.outside": (
        "该位置（{lat}，{lon}）不在什刹海街道范围内，未采用：请在街道范围内点选或定位。",
        "That place ({lat}, {lon}) is outside the subdistrict and was not taken: choose a place "
        "inside it.",
    ),
    "report.submit": ("上报", "Send"),
    "report.sent": ("已上报，编号 {case_id}。", "Sent as {case_id}."),
    "report.too_big": ("照片超过 {mb} MB。", "The photo is larger than {mb} MB."),
    "report.mine": ("我的上报：{count}", "My reports: {count}"),
    "page.report": ("上报", "Report"),
    "coordination.photos": ("整改前后照片", "Before and after photos"),
    "coordination.photo_kind": ("照片类型", "Photo kind"),
    "coordination.photo.before": ("整改前", "Before"),
    "coordination.photo.after": ("整改后", "After"),
    "coordination.confirm_far": (
        "照片位置离案件较远，我确认无误",
        "The photo was taken far from the case, and it is the right one",
    ),
    "coordination.add_photo": ("上传照片", "Add photo"),
    "coordination.flag.far": ("拍摄位置离案件较远", "taken far from the case"),
    "coordination.flag.no_position": ("照片无位置信息", "no position in the photo"),
    "coordination.flag.early": ("拍摄时间早于上报", "taken long before the report"),
    "coordination.flag.after_predates_report": (
        "整改后照片早于上报",
        "after-photo older than the report",
    ),
    "coordination.photo_added": (
        "已保存照片（案件 {case}，标记：{flags}）。",
        "Photo stored (case {case}, flags: {flags}).",
    ),
    "coordination.month": (
        "本月联合执法 {joint}/{joint_target} 次，会商 {consult}/{consult_target} 次",
        "This month: joint actions {joint}/{joint_target}, consultations {consult}/{consult_target}",
    ),
    "coordination.plan_joint": ("计划联合执法", "Plan a joint action"),
    "coordination.joint_title": ("任务名称", "Title"),
    "coordination.joint_day": ("日期", "Date"),
    "coordination.joint_time": ("时间", "Time"),
    "coordination.targets": ("目标案件", "Target cases"),
    "coordination.plan": ("保存计划", "Save the plan"),
    "coordination.planned": ("已计划联合执法 {id}。", "Joint action {id} planned."),
    "coordination.joint_action": ("联合执法任务", "Joint action"),
    "coordination.briefing": ("下载任务单", "Download the briefing sheet"),
    "coordination.outcome.none": ("不变", "No change"),
    "coordination.outcome.handle": ("处置完毕", "Handled"),
    "coordination.outcome.verify_close": ("核查结案", "Verify and close"),
    "coordination.outcome.close_rectified": ("已整改，结案", "Rectified: close"),
    "coordination.outcome.call_joint": ("吹哨报到", "Call departments"),
    "coordination.close_joint": ("完成联合执法", "Close the joint action"),
    "coordination.closed": ("联合执法 {id} 已完成。", "Joint action {id} closed."),
    "coordination.log_consult": ("记录会商", "Log a consultation"),
    "coordination.level": ("会商级别", "Level"),
    "coordination.level.center": ("中心会商", "Center"),
    "coordination.level.subdistrict": ("街道会商", "Subdistrict"),
    "coordination.level.district_special": ("区级专项会商", "District special"),
    "coordination.level.holiday": ("节假日统一会商", "Holiday joint consultation"),
    "coordination.topic": ("议题", "Topic"),
    "coordination.attendees": ("参会人员/单位（逗号分隔）", "Attendees (comma-separated)"),
    "coordination.decisions": ("会商决定", "Decisions"),
    "coordination.contingency": ("应急预案", "Contingency plans"),
    "coordination.log": ("保存会商记录", "Save"),
    "coordination.logged": ("已记录会商 {id}。", "Consultation {id} logged."),
    "coordination.inspections": ("明察暗访与周点评", "Inspections and the weekly review"),
    "coordination.record_inspection": ("记录明察暗访", "Record an inspection"),
    "coordination.mode": ("方式", "Mode"),
    "coordination.mode.open": ("明察", "Announced"),
    "coordination.mode.covert": ("暗访", "Undercover"),
    "coordination.target_kind": ("对象", "Checked"),
    "coordination.target_kind.street": ("街巷（路段编号）", "Street (segment id)"),
    "coordination.target_kind.person": ("人员（人员编号）", "Person (staff id)"),
    "coordination.target_kind.dept": ("部门", "Department"),
    "coordination.target": ("对象编号或名称", "Id or name"),
    "coordination.result": ("结果", "Result"),
    "coordination.result.good": ("良好", "Good"),
    "coordination.result.minor": ("一般问题", "Minor problem"),
    "coordination.result.serious": ("严重问题", "Serious problem"),
    "coordination.finding": ("发现", "Finding"),
    "coordination.insp_outcome": ("处理", "Outcome"),
    "coordination.insp_outcome.none": ("仅记录", "Record only"),
    "coordination.insp_outcome.case": ("立案", "Open a case"),
    "coordination.insp_outcome.comment": ("列入周点评", "Comment in the weekly review"),
    "coordination.insp_case_hint": (
        "立案时填写类别和位置（经纬度）。",
        "To open a case, give its category and position (longitude, latitude).",
    ),
    "coordination.recorded_case": (
        "已记录明察暗访，并立案 {case}。",
        "Inspection recorded; case {case} opened.",
    ),
    "coordination.record": ("保存", "Save"),
    "coordination.recorded": ("已记录明察暗访。", "Inspection recorded."),
    "coordination.review.people": ("本周点评：人员得分", "This week's review: people"),
    "coordination.review.departments": ("本周点评：部门得分", "This week's review: departments"),
    "coordination.review.col.who": ("对象", "Who"),
    "coordination.review.col.good": ("良好", "Good"),
    "coordination.review.col.minor": ("一般问题", "Minor problems"),
    "coordination.review.col.serious": ("严重问题", "Serious problems"),
    "coordination.review.col.late_arrival": ("迟到", "Late arrivals"),
    "coordination.review.col.no_show": ("未到场", "No-shows"),
    "coordination.review.col.overdue": ("超期案件", "Overdue cases"),
    "coordination.review.col.score": ("得分", "Score"),
    "coordination.banner": (
        "{count} 条重大/突发/超期/吹哨提醒待确认（见「协同」）",
        "{count} major/emergency/overdue/whistle alerts to acknowledge (see Coordination)",
    ),
    # tiers in the case form and on the case page (一般/重大/突发)
    "tier.general": ("一般", "General"),
    "tier.major": ("重大", "Major"),
    "tier.emergency": ("突发", "Emergency"),
    "tier.choose": ("立案级别", "Tier of the case"),
    "tier.what.general": (
        "一般：由值班队员送达整改通知，期限按类别（本案 {hours} 小时）。",
        "General: the duty officer serves the notice with the category's deadline "
        "({hours} h for this case).",
    ),
    "tier.what.major": (
        "重大：须由本片区片区长批准后才能送达通知；立即提醒领导（横幅和导航角标，直至确认）；"
        "期限前须制定联合执法方案；期限按类别、最长 24 小时（本案 {hours} 小时）。",
        "Major: the area chief of this zone approves before the notice is served; leadership "
        "is alerted at once (a banner and a count in the navigation until acknowledged); a "
        "joint-enforcement plan is due before the deadline; the category's deadline, at most "
        "24 h ({hours} h for this case).",
    ),
    "tier.what.emergency": (
        "突发：立即启动应急预案清单（每步记录时间）；步行 {walk} 米内的在岗人员立即收到提醒，"
        "记录各人响应时间；立即提醒领导；期限最长 2 小时（本案 {hours} 小时）。",
        "Emergency: the emergency checklist starts at once (each step timed); every on-duty "
        "person within {walk} m walk is alerted and their response time recorded; leadership "
        "is alerted at once; the deadline is at most 2 h ({hours} h for this case).",
    ),
    "tier.registered": (
        "案件 {case_id} 已立案（{tier}）。",
        "Case {case_id} registered ({tier}).",
    ),
    "tier.registered_major": (
        "案件 {case_id} 已立案为重大问题：已提醒领导，待本片区片区长批准。",
        "Case {case_id} registered as major: leadership alerted, the zone's area chief approves.",
    ),
    "tier.registered_emergency": (
        "案件 {case_id} 已立案为突发事件：已启动应急预案，已提醒附近 {count} 名在岗人员。",
        "Case {case_id} registered as an emergency: checklist started, {count} on-duty "
        "people nearby alerted.",
    ),
    "tier.case": ("级别：{tier}", "Tier: {tier}"),
    "tier.awaiting_approval": (
        "待本片区片区长批准，批准后方可送达通知。",
        "Awaiting the zone's area chief's approval before the notice.",
    ),
    "tier.approved": ("已由 {who} 于 {time} 批准。", "Approved by {who} at {time}."),
    "tier.not_yours": (
        "本案不在您负责的片区内，由所在片区的片区长或领导批准。",
        "This case lies outside your zones: its zone's area chief or leadership approves.",
    ),
    "tier.needs_approval": (
        "重大问题须先经本片区片区长批准，才能送达整改通知。",
        "A major case needs its area chief's approval before the notice is served.",
    ),
    "tier.leadership_open": ("已提醒领导，尚未确认。", "Leadership alerted, not yet acknowledged."),
    "tier.leadership_acked": (
        "领导 {who} 已于 {time} 确认。",
        "Leadership ({who}) acknowledged at {time}.",
    ),
    "tier.plan_missing": (
        "尚无联合执法方案：请在期限前于「协同」页计划联合执法。",
        "No joint-enforcement plan yet: plan a joint action on Coordination before the deadline.",
    ),
    "tier.checklist": ("应急预案清单", "Emergency checklist"),
    "tier.step": ("步骤", "Step"),
    "tier.done_at": ("完成时间", "Done at"),
    "tier.by": ("执行人", "By"),
    "tier.tick": ("记录完成", "Mark done"),
    "tier.responders": ("附近在岗人员", "On-duty people nearby"),
    "tier.no_responders": (
        "步行范围内没有找到在岗人员（无排班或无责任区）。",
        "No on-duty person found within walking distance (no roster or districts).",
    ),
    "tier.person": ("人员", "Person"),
    "tier.alerted_at": ("提醒时间", "Alerted at"),
    "tier.responded_at": ("响应时间", "Responded at"),
    "tier.escalated": (
        "已超期升级（第 {level} 级：{to}）。",
        "Overdue: escalated (level {level}: {to}).",
    ),
    "tier.to.1": ("片区长", "area chief"),
    "tier.to.2": ("领导", "leadership"),
    "page.coordination_count": ("协同（{count}）", "Coordination ({count})"),
    "coordination.calls": ("呼叫次数", "Calls"),
    "coordination.arrivals": ("到场次数", "Arrivals"),
    "coordination.on_time": ("30分钟内到场", "Within 30 min"),
    "coordination.on_time_rate": ("及时率", "On-time rate"),
    "coordination.median_minutes": ("到场用时中位数(分钟)", "Median minutes"),
    # common
    "common.all": ("全部", "All"),
    "common.none": ("无", "None"),
    "common.yes": ("是", "Yes"),
    "common.no": ("否", "No"),
    # errors a user can trigger: the kind (and field) with the fix
    "errors.generic": (
        "操作未完成：请检查输入后重试；如仍失败，请联系系统管理员。",
        "The action did not complete: check the input and try again.",
    ),
    "errors.validation": (
        "输入有误：请检查各项填写后重试。",
        "The input is not valid: check the fields and try again.",
    ),
    "errors.validation.username": (
        "用户名不可用：请用 2–32 个英文字母、数字或“_”“.”“-”。",
        "The user name is not allowed: use 2–32 letters, digits, '_', '.' or '-'.",
    ),
    "errors.validation.password": (
        "密码不符合要求：至少 8 个字符，且不超过 72 字节。",
        "The password does not qualify: use at least 8 characters and at most 72 bytes.",
    ),
    "errors.validation.photo": (
        "照片未保存：请上传 JPEG、PNG 或 WebP 照片（不超过 15 MB，同一照片不重复上传；"
        "拍摄位置离案件超过 1 公里时请勾选确认）。",
        "Photo not stored: give a JPEG, PNG or WebP photo (at most 15 MB, not twice; confirm "
        "a photo taken more than 1 km from the case).",
    ),
    "errors.validation.role": ("请选择一个角色。", "Choose a role."),
    "errors.validation.zones": (
        "片区长需要至少一个片区或一条战线：请在“片区”或“战线”中选择。",
        "An area chief needs at least one zone or front: choose them.",
    ),
    "errors.validation.person_id": (
        "巡查队员需要人员编号（责任区和路线按它分配）：请选择人员。",
        "A patrol member needs a person id (districts and routes use it): choose the person.",
    ),
    "errors.validation.department": (
        "请选择成员单位（例如 城管）。",
        "Choose the member department (e.g. urban management).",
    ),
    "errors.validation.category": (
        "问题类别无法识别：请从列表中选择。",
        "The category is not known: choose one from the list.",
    ),
    "errors.validation.description": (
        "描述不符合要求：请写简短的文字说明。",
        "The description is not accepted: write a short plain text.",
    ),
    "errors.validation.reported_at": (
        "上报时间无效：时间不能晚于现在。",
        "The report time is not valid: it cannot be in the future.",
    ),
    "errors.datum": (
        "坐标系不符：请选择坐标来源（WGS-84、高德/腾讯 GCJ-02 或百度 BD-09）后重试。",
        "The datum does not match: choose where the coordinates come from and try again.",
    ),
    "errors.crs": (
        "坐标参考系不一致：请使用同一坐标系的数据。",
        "The coordinate reference systems differ: use data in one CRS.",
    ),
    "errors.conflict": (
        "记录已被他人修改：请刷新页面，查看最新状态后再操作。",
        "Someone else changed the record first: reload and try again on the current state.",
    ),
    "errors.users.conflict": (
        "该用户名已存在：请换一个用户名。",
        "That user name exists already: choose another.",
    ),
    "errors.transition": (
        "案件当前状态不允许此操作：请刷新页面查看最新状态。",
        "The case's current state does not allow this: reload to see its state.",
    ),
    "errors.transition.after_photo": (
        "以“已整改”结案需要整改后照片：请先上传整改后照片，或在备注中写明没有照片的理由。",
        "Closing as rectified needs an after photo: add one first, or give the reason in the note.",
    ),
    "errors.infeasible": (
        "无法满足此要求：请减少人数或放宽限制后重试。",
        "No solution meets this request: use fewer people or fewer constraints.",
    ),
    "errors.network": (
        "路网中无法连通这些街道：请换一个片区或检查路网数据。",
        "The street network cannot connect these streets: choose another area.",
    ),
    "errors.offline": (
        "无法联网：请改用离线数据文件。",
        "No network: use an offline data file instead.",
    ),
    "errors.not_found": (
        "找不到该记录：它可能已被删除，请刷新页面。",
        "The record does not exist (any more): reload the page.",
    ),
    "errors.store": (
        "数据存储出错：请稍后重试，或联系系统管理员。",
        "The data store failed: try again later or ask the administrator.",
    ),
    "errors.geography": (
        "地理数据不一致：请联系系统管理员检查数据。",
        "The geography data is inconsistent: ask the administrator to check it.",
    ),
    "errors.auth": (
        "没有权限或登录已过期：请重新登录。",
        "Not allowed or logged out: log in again.",
    ),
    # app journeys
    "cases.click_outside": (
        "所点位置（{lat}，{lon}）不在什刹海街道范围内：请在街道范围内点选。",
        "The clicked place ({lat}, {lon}) is outside the subdistrict: click inside it.",
    ),
    "cases.where": ("{zone} · 主责单位：{dept}", "{zone} · lead: {dept}"),
    "cases.codes": ("编号 {case_id} · 类别代码 {code}", "Case {case_id} · category code {code}"),
    "hotspots.reported": ("上报数", "Reported"),
    "cases.zone": ("片区", "Zone"),
    "cases.arrived": ("{dept}：已于 {time} 到场", "{dept}: arrived {time}"),
    "cases.awaited": ("{dept}：尚未到场", "{dept}: not yet arrived"),
    "overview.clicked_zone_name": ("片区：{name}", "Zone: {name}"),
    "overview.clicked_street_name": (
        "最近街巷：{name}（{distance} 米）",
        "Nearest street: {name} ({distance} m)",
    ),
    "overview.codes": (
        "片区编号 {zone_id} · 路段 {segment_id}",
        "Zone {zone_id} · segment {segment_id}",
    ),
    "patrol.by_area": ("不指定人员（按片区）", "No person (by area)"),
    "patrol.now": ("当前第 {n} 步", "Now: step {n}"),
    "patrol.next": ("下一步：{text}", "Next: {text}"),
    "patrol.next_last": ("这是最后一步。", "This is the last step."),
    "patrol.all_done": ("全部步骤已完成。", "Every step is done."),
    "patrol.report_here": ("在此上报问题", "Report a problem here"),
    "patrol.which": ("查看哪一组", "Show route"),
    "patrol.settings": ("路线设置", "Route settings"),
    "districts.segment_option": (
        "{street}（{segment}）· 现由 {person} 负责",
        "{street} ({segment}) · now {person}",
    ),
    "hotspots.no_cases_period": ("{period} 无案件。", "No cases in {period}."),
    "app.no_geography": (
        "辖区 {subdistrict} 的地图图层尚未载入数据库，请管理员载入后再试。详情：{detail}",
        "The map layers of subdistrict {subdistrict} are not in the store yet; ask an "
        "administrator to load them. Detail: {detail}",
    ),
    "app.basemap.offline": (
        "无法连接在线底图（无网络）：已改用离线地图。",
        "The online basemap cannot be reached (no network): showing the offline map.",
    ),
    # -- printed route sheets (gis/planning/route_sheet.py) --------------------------------
    "route.title": ("巡查路线单", "Patrol route sheet"),
    "route.gpx_name": ("巡查路线", "Patrol route"),
    "route.unnamed": ("无名胡同", "unnamed lane"),
    "route.compass.0": ("北", "north"),
    "route.compass.1": ("东北", "northeast"),
    "route.compass.2": ("东", "east"),
    "route.compass.3": ("东南", "southeast"),
    "route.compass.4": ("南", "south"),
    "route.compass.5": ("西南", "southwest"),
    "route.compass.6": ("西", "west"),
    "route.compass.7": ("西北", "northwest"),
    "route.turn.straight": ("直行", "Continue"),
    "route.turn.left": ("左转", "Turn left"),
    "route.turn.right": ("右转", "Turn right"),
    "route.head": ("向{compass} {metres} 米", "head {compass} {metres} m"),
    "route.to": ("{head}，至{place}", "{head}, to {place}"),
    "route.towards": ("{head}，往{place}方向", "{head}, towards {place}"),
    "route.passing_tag": ("（途经）", " (passing through)"),
    "route.step.start": ("沿{street}{head}{tag}", "On {street}, {head}{tag}"),
    "route.step.uturn": ("掉头沿{street}{head}{tag}", "Turn back along {street}, {head}{tag}"),
    "route.step.turn": ("{turn}进入{street}，{head}{tag}", "{turn} onto {street}, {head}{tag}"),
    "route.back_at_start": ("回到起点", "Back at the start"),
    "route.arrive": ("到达终点", "Arrive at the destination"),
    "route.by": ("责任人", "Patrolled by"),
    "route.total": ("总长", "Total"),
    "route.patrolled": ("巡查路段", "Patrolled"),
    "route.passing": ("途经", "Passing"),
    "route.expected": ("预计用时", "Expected time"),
    "route.speed": ("步行速度", "Walking speed"),
    "route.minutes": ("分钟", "min"),
    "route.number": ("序号", "#"),
    "route.step": ("说明", "Step"),
    "route.distance": ("距离", "Distance"),
    # -- 街巷长 signboards (gis/planning/signboards.py), printed in both languages ----------
    "signboard.title": ("街巷长公示牌", "Lane chief signboard"),
    "signboard.subdistrict": ("西城区什刹海街道", "Shichahai Subdistrict, Xicheng District"),
    "signboard.motto": ("包片分段 责任到人", "Every street segment has a responsible person"),
    "signboard.chief": ("街巷长", "Lane chief"),
    "signboard.phone": ("联系电话", "Phone"),
    "signboard.department": ("所属单位", "Department"),
    "signboard.id": ("编号", "ID"),
    "signboard.unnamed": ("无名街巷 {n} 段", "{n} unnamed lane segments"),
    "signboard.fictitious": ("示例数据：人物为虚构", "fictitious demo person"),
    "signboard.streets": ("责任街巷", "Streets"),
    "signboard.duties": ("工作职责", "Duties"),
    "signboard.duty.patrol": ("巡", "Patrol"),
    "signboard.duty.patrol.text": (
        "每日巡查责任街巷，发现问题及时上报、处置",
        "patrol the lanes every day",
    ),
    "signboard.duty.listen": ("听", "Listen"),
    "signboard.duty.listen.text": ("听取居民、商户的意见和诉求", "listen to residents and shops"),
    "signboard.duty.visit": ("访", "Visit"),
    "signboard.duty.visit.text": (
        "走访沿街单位和院落",
        "visit the units and courtyards along the lane",
    ),
    "signboard.duty.manage": ("管", "Manage"),
    "signboard.duty.manage.text": (
        "督促门前三包、环境秩序整治",
        "keep order and cleanliness in front of doors",
    ),
    "signboard.duty.oversee": ("督", "Oversee"),
    "signboard.duty.oversee.text": (
        "监督问题整改到位并反馈",
        "follow problems until they are fixed",
    ),
    # -- the printed day sheet (gis/people/daysheet.py) -------------------------------------
    "daysheet.title": ("日碰头 {day}", "Day briefing {day}"),
    "daysheet.nobody": ("今日无排班", "Nobody is on duty today"),
    "daysheet.kind.sites": ("拆违点位路线", "Illegal-structure sites"),
    "daysheet.kind.postman": ("责任区全覆盖巡查", "District tour"),
    "daysheet.kind.hotspots": ("热点巡查", "Hotspot route"),
    "daysheet.kind.none": ("无路线", "No route"),
    "daysheet.case": ("案件", "Case"),
    "daysheet.category": ("类别", "Category"),
    "daysheet.state": ("状态", "State"),
    "daysheet.due": ("期限", "Due"),
    "daysheet.street": ("街巷", "Street"),
    "daysheet.route": ("路线", "Route"),
    "daysheet.length": ("{km} 公里，约 {minutes} 分钟", "{km} km, about {minutes} min"),
}


def t(key: str, lang: str = DEFAULT_LANGUAGE, /, **fmt: object) -> str:
    """The message ``key`` in ``lang`` (zh or en), formatted with ``fmt``.

    An unknown key raises KeyError (a typo must fail in tests, not show a blank).
    """
    zh, en = MESSAGES[key]
    text = en if lang == "en" else zh
    return text.format(**fmt) if fmt else text


def placeholders(text: str) -> set[str]:
    """The str.format field names used in a message."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def check_language(lang: str) -> str:
    """Return a supported language code or raise a ValidationError naming the fix."""
    if lang not in LANGUAGES:
        raise ValidationError(f"unknown language {lang!r}", field="lang", fix="use zh or en")
    return lang


def format_number(value: float, lang: str = DEFAULT_LANGUAGE, *, digits: int = 0) -> str:
    """Thousands separated with commas (1,234), as both Chinese and English texts do."""
    return f"{value:,.{digits}f}"


def format_count(value: int, lang: str = DEFAULT_LANGUAGE) -> str:
    """A count for headlines: Chinese uses 万 (10⁴) and 亿 (10⁸) for large numbers."""
    if lang == "zh":
        if abs(value) >= 100_000_000:
            return f"{value / 100_000_000:.1f}".rstrip("0").rstrip(".") + "亿"
        if abs(value) >= 10_000:
            return f"{value / 10_000:.1f}".rstrip("0").rstrip(".") + "万"
        return str(value)
    return f"{value:,}"


def _local(value: date | datetime) -> date | datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(LOCAL_TZ)
    return value


def format_date(value: date | datetime, lang: str = DEFAULT_LANGUAGE) -> str:
    """A date as 2026年11月29日 (zh) or 2026-11-29 (en), in Beijing time."""
    d = _local(value)
    if lang == "zh":
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def format_datetime(value: datetime, lang: str = DEFAULT_LANGUAGE) -> str:
    """A time stamp as 2026年11月29日 09:05 (zh) or 2026-11-29 09:05 (en), in Beijing time."""
    d = _local(value)
    assert isinstance(d, datetime)
    return f"{format_date(d, lang)} {d.hour:02d}:{d.minute:02d}"
