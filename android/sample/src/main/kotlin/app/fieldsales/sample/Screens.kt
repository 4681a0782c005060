package app.fieldsales.sample

import android.location.Location
import android.os.Build
import android.os.SystemClock
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Button
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import app.fieldsales.SyncState
import app.fieldsales.changesOf
import app.fieldsales.ffi.Agenda
import app.fieldsales.ffi.CheckedIn
import app.fieldsales.ffi.DailyReport
import app.fieldsales.ffi.DevicePosition
import app.fieldsales.ffi.Engine
import app.fieldsales.ffi.FieldsalesException
import app.fieldsales.ffi.Granularity
import app.fieldsales.ffi.GroupBy
import app.fieldsales.ffi.RecordKind
import app.fieldsales.ffi.ReportDue
import app.fieldsales.ffi.ReportDueStatus
import app.fieldsales.ffi.ReportEdit
import app.fieldsales.ffi.ReportState
import app.fieldsales.ffi.VisitsDashboard
import app.fieldsales.syncing
import java.time.Instant
import java.time.ZoneId
import java.time.format.DateTimeFormatter
import kotlinx.coroutines.launch

// Four screens of the sample: check-in, today, the daily report and the team's visits. They
// call the library and show what it says; nothing is judged or computed here.

/**
 * The fix exactly as the OS gave it; the library judges it. Its time comes from the fix itself:
 * `elapsedRealtimeNanos` (the monotonic clock, counting sleep) says how long ago it was taken,
 * never `Location.time` or the wall clock at the tap, so a cached fix shows its true age. The
 * same stamp goes along as time since boot, which lets the server see a wall clock wound back
 * between two visits.
 */
fun Location.asDevicePosition(): DevicePosition {
    // One reading of each clock, so the age and the fix time agree.
    val nowElapsedNanos = SystemClock.elapsedRealtimeNanos()
    val nowWall = Instant.now()
    val ageNanos = nowElapsedNanos - elapsedRealtimeNanos
    return DevicePosition(
        lat = latitude,
        lon = longitude,
        accuracyM = accuracy.toDouble(),
        fixTime = nowWall.minusNanos(ageNanos),
        isMock = if (Build.VERSION.SDK_INT >= 31) isMock else @Suppress("DEPRECATION") isFromMockProvider,
        integrity = null,
        sinceBootMs = elapsedRealtimeNanos / 1_000_000,
    )
}

@Composable
fun CheckInScreen(engine: Engine, customerId: String, location: Location?) {
    val scope = rememberCoroutineScope()
    var note by remember { mutableStateOf("") }
    var checkedIn by remember { mutableStateOf<CheckedIn?>(null) }
    var problem by remember { mutableStateOf<String?>(null) }
    Column(Modifier.padding(16.dp)) {
        OutlinedTextField(value = note, onValueChange = { note = it }, label = { Text("Note") })
        Button(
            enabled = location != null && checkedIn == null,
            onClick = {
                scope.launch {
                    try {
                        checkedIn = engine.checkIn(customerId, location!!.asDevicePosition(), note)
                    } catch (e: FieldsalesException.RuleViolated) {
                        problem = "${e.rule}: ${e.detail}"
                    } catch (e: FieldsalesException) {
                        problem = e.message
                    }
                }
            },
        ) { Text("Check in") }
        checkedIn?.visit?.verdict?.let { v ->
            Text("Geofence: ${v.fence} (judged by ${v.judgedBy})")
            v.distanceM?.let { Text("Distance: ${it.toInt()} m ± ${v.accuracyM.toInt()} m") }
            v.flags.forEach { Text("Flag: ${it.kind}") }
        }
        problem?.let { Text(it) }
    }
}

@Composable
fun TodayScreen(engine: Engine) {
    val scope = rememberCoroutineScope()
    var agenda by remember { mutableStateOf<Agenda?>(null) }
    var reminder by remember { mutableStateOf<String?>(null) }
    var status by remember { mutableStateOf<String?>(null) }
    LaunchedEffect(engine) {
        val today = engine.today()
        agenda = today
        reminder = engine.reportDue(today.date).inWords()
        engine.changesOf(RecordKind.TASK).collect { agenda = engine.today() }
    }
    LaunchedEffect(engine, agenda?.date) {
        val day = agenda?.date ?: return@LaunchedEffect
        // A report written or judged, the calendar or the rep's leave changed: ask again.
        engine.changesOf(RecordKind.DAILY_REPORT, RecordKind.PROCESS_CONFIG, RecordKind.USER_PROFILE).collect {
            reminder = engine.reportDue(day).inWords()
        }
    }
    Column(Modifier.padding(16.dp)) {
        agenda?.let { a ->
            Text("Today ${a.date}")
            reminder?.let { Text(it) }
            LazyColumn { items(a.schedule + a.tasksDue + a.overdue) { task -> Text(task.title) } }
        }
        Button(onClick = {
            scope.launch {
                try {
                    engine.syncing().collect { state ->
                        status =
                            when (state) {
                                is SyncState.Running -> "Syncing… ${state.progress.recordsDown} received"
                                is SyncState.Done -> "Synced; ${state.summary.refused.size} refused"
                            }
                    }
                } catch (e: FieldsalesException.Offline) {
                    status = "No connection: your changes are kept and sync later"
                } catch (e: FieldsalesException.AuthExpired) {
                    status = "Please sign in again"
                } catch (e: FieldsalesException) {
                    status = e.message
                }
            }
        }) { Text("Sync") }
        status?.let { Text(it) }
    }
}

/**
 * The daily-report reminder as the library gives it: whether a report is owed today is the work
 * calendar's answer (weekends, public holidays, leave, a rep's first and last day), never the
 * phone's guess, so a rep is not reminded on a day off.
 */
fun ReportDue.inWords(): String? =
    when (status) {
        ReportDueStatus.OPEN -> deadline?.let { "Daily report due by ${clockTime(it)}" } ?: "Daily report due today"
        ReportDueStatus.OVERDUE -> "Daily report overdue" + (missingAt?.let { "; missing from ${clockTime(it)}" } ?: "")
        ReportDueStatus.MISSING -> "Daily report missing"
        ReportDueStatus.DAY_OFF -> "No daily report due today (${dayOff?.name?.lowercase()?.replace('_', ' ') ?: "day off"})"
        ReportDueStatus.SUBMITTED -> null
    }

private fun clockTime(at: Instant): String = at.atZone(ZoneId.systemDefault()).format(DateTimeFormatter.ofPattern("HH:mm"))

@Composable
fun DailyReportScreen(engine: Engine, date: java.time.LocalDate) {
    val scope = rememberCoroutineScope()
    var report by remember { mutableStateOf<DailyReport?>(null) }
    var summary by remember { mutableStateOf("") }
    var plan by remember { mutableStateOf("") }
    var problem by remember { mutableStateOf<String?>(null) }
    LaunchedEffect(date) {
        val draft = engine.reportDraft(date)
        report = draft
        summary = draft.summary
        plan = draft.planTomorrow
    }
    Column(Modifier.padding(16.dp)) {
        report?.let { r ->
            Text("${r.date} · ${r.state} · ${r.visitIds.size} visits, ${r.followUpIds.size} follow-ups")
            OutlinedTextField(value = summary, onValueChange = { summary = it }, label = { Text("Summary") })
            OutlinedTextField(value = plan, onValueChange = { plan = it }, label = { Text("Plan for tomorrow") })
            Button(enabled = r.state == ReportState.DRAFT, onClick = {
                scope.launch {
                    try {
                        engine.editReport(r.id, ReportEdit(summary, null, null, plan))
                        report = engine.submitReport(r.id)
                    } catch (e: FieldsalesException) {
                        problem = e.message
                    }
                }
            }) { Text("Submit") }
        }
        problem?.let { Text(it) }
    }
}

@Composable
fun TeamDashboardScreen(engine: Engine, from: java.time.LocalDate, to: java.time.LocalDate) {
    var board by remember { mutableStateOf<VisitsDashboard?>(null) }
    LaunchedEffect(from, to) {
        board = engine.visitsDashboard(from, to, GroupBy.REP, Granularity.DAY)
        engine.changesOf(RecordKind.VISIT).collect { board = engine.visitsDashboard(from, to, GroupBy.REP, Granularity.DAY) }
    }
    board?.let { b ->
        LazyColumn(Modifier.padding(16.dp)) {
            item { Text("Check-ins ${b.total.checkIns} · outside ${b.total.outside} · flagged ${b.total.flagged}") }
            items(b.rows) { row -> Text("${row.period} ${row.groupName}: ${row.figures.checkIns} check-ins") }
        }
    }
}
