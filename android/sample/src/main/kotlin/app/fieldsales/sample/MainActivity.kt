package app.fieldsales.sample

import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.compose.material3.Text
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import app.fieldsales.ffi.Engine
import app.fieldsales.ffi.resumeEngine

/** Opens the signed-in user's store, or says to sign in (the sign-in screen is not in the sample). */
class MainActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val storePath = filesDir.resolve("fieldsales.sqlite").absolutePath
        setContent {
            var engine by remember { mutableStateOf<Engine?>(null) }
            LaunchedEffect(Unit) { engine = resumeEngine(storePath) }
            when (val e = engine) {
                null -> Text("Sign in to start")
                else -> TodayScreen(e)
            }
        }
    }
}
