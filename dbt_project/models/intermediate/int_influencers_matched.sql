with

influencers as (

    select
        *,
        {{ face_match_threshold('embedder') }} as threshold
    from {{ ref('int_influencers_embedded') }}

),

photos as (

    select * from {{ ref('int_known_photos_embedded') }}
    where embedding is not null

),

-- a name's similarity: the mean over its photos of photo-vs-centroid cosine, the comparison
-- face_match_threshold was calibrated on, with the threshold of the influencer's embedder
-- (docs/face_search.md)
scores as (

    select
        influencers.influencer_id,
        photos.person_name,
        influencers.threshold,
        avg(array_cosine_similarity(influencers.centroid, photos.embedding)) as similarity
    from influencers
    cross join photos
    group by influencers.influencer_id, influencers.threshold, photos.person_name

),

ranked as (

    select
        influencer_id,
        person_name,
        similarity,
        row_number() over (
            partition by influencer_id order by similarity desc, person_name asc
        ) as name_rank,
        count(*) filter (
            where similarity >= threshold
        ) over (partition by influencer_id) as n_names_passing
    from scores

),

final as (

    select
        influencers.influencer_id,
        ranked.person_name as best_name,
        ranked.similarity as best_similarity,
        cast(coalesce(ranked.n_names_passing, 0) as integer) as n_names_passing,
        -- one name over the threshold: proposed; none (weak) or several (ambiguous): nobody
        case when ranked.n_names_passing = 1 then ranked.person_name end as suggested_name,
        case when ranked.n_names_passing = 1 then ranked.similarity end as suggested_similarity
    from influencers
    left join ranked
        on
            influencers.influencer_id = ranked.influencer_id
            and ranked.name_rank = 1

)

select * from final
