package app.fieldsales.sample

import android.content.Context
import android.net.ConnectivityManager
import android.net.Network
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.CoroutineWorker
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.NetworkType
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import app.fieldsales.BackgroundOutcome
import app.fieldsales.SyncService
import app.fieldsales.syncInBackground
import app.fieldsales.ffi.resumeEngine
import java.util.concurrent.TimeUnit

// Sync while the app is closed, and at once when the network returns. The decisions (what to
// send, when to give up, what counts as "needs the user") are the library's
// (`syncInBackground`, tested on the JVM in BackgroundSyncTest); these are the Android hooks.

/** The store the app signed in to (the same path as [MainActivity]'s). */
fun storePath(context: Context): String = context.filesDir.resolve("fieldsales.sqlite").absolutePath

/** A periodic background sync through WorkManager: only with a network, backing off on failure. */
class SyncWorker(
    context: Context,
    params: WorkerParameters,
) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result {
        val engine = resumeEngine(storePath(applicationContext)) ?: return Result.failure()
        return engine.use {
            when (it.syncInBackground()) {
                BackgroundOutcome.DONE -> Result.success()
                BackgroundOutcome.RETRY_LATER -> Result.retry()
                BackgroundOutcome.NEEDS_USER -> Result.failure()
            }
        }
    }

    companion object {
        /** Schedules the sync every 15 minutes (WorkManager's shortest period), once per install. */
        fun schedule(context: Context) {
            val request =
                PeriodicWorkRequestBuilder<SyncWorker>(15, TimeUnit.MINUTES)
                    .setConstraints(Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build())
                    .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, 30, TimeUnit.SECONDS)
                    .build()
            WorkManager.getInstance(context).enqueueUniquePeriodicWork("fieldsales-sync", ExistingPeriodicWorkPolicy.KEEP, request)
        }
    }
}

/** Tells [service] when a network becomes available, so waiting changes go up at once. */
fun watchNetwork(
    context: Context,
    service: SyncService,
): AutoCloseable {
    val connectivity = context.getSystemService(ConnectivityManager::class.java)
    val callback =
        object : ConnectivityManager.NetworkCallback() {
            override fun onAvailable(network: Network) = service.syncSoon()
        }
    connectivity.registerDefaultNetworkCallback(callback)
    return AutoCloseable { connectivity.unregisterNetworkCallback(callback) }
}
