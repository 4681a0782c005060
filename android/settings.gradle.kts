// The Android side of Fieldsales: a Kotlin library over the uniffi bindings of the Rust core.
// The sample app (:sample, Jetpack Compose) depends on :fieldsales.

pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "fieldsales-android"
include(":fieldsales")
include(":sample")
