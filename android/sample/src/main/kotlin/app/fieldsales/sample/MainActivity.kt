package app.fieldsales.sample

import android.annotation.SuppressLint
import android.location.Location
import android.location.LocationManager
import android.os.Build
import android.os.Bundle
import android.os.SystemClock
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.NavigationBar
import androidx.compose.material3.NavigationBarItem
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import app.fieldsales.changesOf
import app.fieldsales.ffi.Customer
import app.fieldsales.ffi.Engine
import app.fieldsales.ffi.RecordKind
import app.fieldsales.ffi.resumeEngine

/** Opens the signed-in user's store, or says to sign in (the sign-in screen is not in the sample). */
class MainActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val storePath = storePath(this)
        SyncWorker.schedule(this)
        setContent {
            var engine by remember { mutableStateOf<Engine?>(null) }
            LaunchedEffect(Unit) { engine = resumeEngine(storePath) }
            when (val e = engine) {
                null -> Text("Sign in to start")
                else -> MainTabs(e, lastFix = ::lastKnownFix)
            }
        }
    }

    /** A fix the OS asked for when the cached one was too old; the next tap uses it. */
    @Volatile private var requested: Location? = null

    /**
     * A fix at most five minutes old, by its own elapsed-realtime stamp: the cached one while it
     * is fresh, else the one asked for (the button waits for it). The library judges its age and
     * accuracy; a fix without an accuracy is no fix.
     */
    @SuppressLint("MissingPermission") // The sample asks for ACCESS_FINE_LOCATION in its manifest.
    private fun lastKnownFix(): Location? {
        val locations = getSystemService(LocationManager::class.java) ?: return null
        val fresh = { fix: Location? ->
            fix?.takeIf {
                it.hasAccuracy() &&
                    SystemClock.elapsedRealtimeNanos() - it.elapsedRealtimeNanos <= MAX_FIX_AGE_NANOS
            }
        }
        fresh(runCatching { locations.getLastKnownLocation(LocationManager.GPS_PROVIDER) }.getOrNull())
            ?.let { return it }
        fresh(requested)?.let { return it }
        if (Build.VERSION.SDK_INT >= 30) {
            runCatching {
                locations.getCurrentLocation(LocationManager.GPS_PROVIDER, null, mainExecutor) { requested = it }
            }
        } else {
            @Suppress("DEPRECATION")
            runCatching {
                locations.requestSingleUpdate(LocationManager.GPS_PROVIDER, { requested = it }, mainLooper)
            }
        }
        return null
    }

    private companion object {
        /** Indoors the freshest fix can be minutes old; older than this, ask for a new one. */
        const val MAX_FIX_AGE_NANOS = 5 * 60 * 1_000_000_000L
    }
}

private enum class Tab(val title: String) { CheckIn("Check in"), Today("Today"), Report("Report"), Team("Team") }

/**
 * Check-in at a customer, today's agenda, the daily report and the team dashboard. The local day
 * the screens work on is the library's `today()`, in the user's zone, never the phone's guess.
 */
@Composable
fun MainTabs(engine: Engine, lastFix: () -> Location?) {
    var tab by remember { mutableStateOf(Tab.Today) }
    var today by remember { mutableStateOf<java.time.LocalDate?>(null) }
    LaunchedEffect(engine) { today = engine.today().date }
    Scaffold(
        bottomBar = {
            NavigationBar {
                Tab.entries.forEach { t ->
                    NavigationBarItem(selected = tab == t, onClick = { tab = t }, icon = {}, label = { Text(t.title) })
                }
            }
        },
    ) { padding ->
        Column(Modifier.padding(padding)) {
            val day = today
            when {
                tab == Tab.CheckIn -> CustomerPicker(engine, lastFix)
                tab == Tab.Today -> TodayScreen(engine)
                day == null -> Text("…")
                tab == Tab.Report -> DailyReportScreen(engine, day)
                // The month so far: its first day through the library's today.
                else -> TeamDashboardScreen(engine, day.withDayOfMonth(1), day)
            }
        }
    }
}

/** The rep's customers; tapping one opens its check-in screen with the latest fix. */
@Composable
fun CustomerPicker(engine: Engine, lastFix: () -> Location?) {
    var customers by remember { mutableStateOf<List<Customer>>(emptyList()) }
    var chosen by remember { mutableStateOf<Customer?>(null) }
    LaunchedEffect(engine) {
        customers = engine.customers()
        engine.changesOf(RecordKind.CUSTOMER).collect { customers = engine.customers() }
    }
    when (val c = chosen) {
        null ->
            LazyColumn(Modifier.padding(16.dp)) {
                items(customers) { customer ->
                    Text(customer.shortName ?: customer.legalName, Modifier.clickable { chosen = customer }.padding(8.dp))
                }
            }
        else -> CheckInScreen(engine, c.id, lastFix())
    }
}
